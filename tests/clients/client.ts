// A tiny client over the types openapi-typescript generates from the sandbox's schema
// (api.d.ts beside it at test time). `tsc --strict --noEmit` must accept it: the types it
// names exist, and the values below have the types the schema promises.
import type { components, paths } from "./api";

type Schemas = components["schemas"];
type SegmentCreate = paths["/api/v1/segments/"]["post"];
type Conflict = SegmentCreate["responses"][409]["content"]["application/json"];

// The rule tree is recursive: groups hold rules, a condition is one of the named shapes.
export const rule: Schemas["SegmentRule"] = {
  all: [
    { field: "country", operator: "eq", value: "US" },
    { any: [{ field: "age", operator: "between", value: [18, 65] }] },
    { not: { field: "tags", operator: "contains", value: "vip" } },
  ],
};

export const body: SegmentCreate["requestBody"] extends infer B
  ? B extends { content: { "application/json": infer J } }
    ? J
    : never
  : never = { name: "Adults in the US", rules: rule };

// The types are the schema's, not `any`: an operator the field's type lacks is refused.
// @ts-expect-error: "contains" is a list operator, and age is a number field.
export const wrong: Schemas["SegmentRule"] = { field: "age", operator: "contains", value: 1 };

// A duplicate name is a documented 409 of creating a segment.
export const duplicate: Conflict["error"]["code"] = "DUPLICATE_RESOURCE";

export function describe(envelope: Schemas["ErrorEnvelope"]): string {
  const { code, message, requestId, details } = envelope.error;
  const fields = (details ?? []).map((problem) => `${problem.field ?? "-"}: ${problem.code}`);
  return [code, message, requestId, ...fields].join(" ");
}
