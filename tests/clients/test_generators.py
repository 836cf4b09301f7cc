"""Client generators over the sandbox's schema: a full client, with no warning.

The schema is written by ``manage.py spectacular --file``, as a project's CI would, then:

- openapi-python-client generates a Python client (``--fail-on-warning``): every operation
  of the schema has its module, every module imports, and the generated models read and
  write a recursive rule tree;
- openapi-typescript generates TypeScript types, and ``tsc --strict --noEmit`` compiles a
  small client (``client.ts``) against them, plus one line per operation of the schema.

The npm packages are installed into ``.cache/ts`` (git ignores it) on first use. Without npm
the TypeScript test skips, saying why; with ``APIERRORS_REQUIRE_SERVICES=1`` (CI) it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from apierrors.openapi.bodies import NOT_BLANK_PATTERN
from tests.fixtures.services import missing_service

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NPM_CACHE = ROOT / ".cache" / "ts"
NPM_PACKAGES = ["openapi-typescript@7", "typescript@5"]
METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
HERE = Path(__file__).resolve().parent


def run(command: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["DJANGO_SETTINGS_MODULE"] = "sandbox.settings"
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{command[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    run([sys.executable, "manage.py", "spectacular", "--fail-on-warn", "--file", str(path)], ROOT)
    return path


def schema_operations(schema_file: Path) -> set[tuple[str, str]]:
    schema: dict[str, Any] = yaml.safe_load(schema_file.read_text())
    return {
        (method, url)
        for url, item in schema["paths"].items()
        for method in item
        if method in METHODS
    }


def test_sandbox_schema_lists_its_operations(schema_file: Path) -> None:
    # The checks below compare with the schema's operations: it must hold the sandbox's.
    operations = schema_operations(schema_file)
    urls = {url for _, url in operations}
    assert {"/api/v1/segments/", "/api/v1/campaigns/", "/api/v1/social/connections/"} <= urls
    assert len(operations) > 20


def test_openapi_python_client_generates_every_operation(schema_file: Path, tmp_path: Path) -> None:
    result = run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(schema_file),
            "--meta",
            "none",
            "--output-path",
            "sandbox_client",
            "--fail-on-warning",
        ],
        tmp_path,
    )
    output = result.stdout + result.stderr
    assert not re.search(r"warning|error|unable|skipping", output, re.IGNORECASE), output
    package = tmp_path / "sandbox_client"
    generated = set()
    for module in (package / "api").rglob("*.py"):
        text = module.read_text()
        method = re.search(r'"method": "(\w+)"', text)
        url = re.search(r'"url": (?:f?)"([^"]+)"', text)
        if method and url:
            generated.add((method.group(1), re.sub(r"\{\w+\}", "{id}", url.group(1))))
    assert generated == schema_operations(schema_file)
    # Every generated module imports, and the models read and write a recursive rule tree.
    rule = {
        "all": [
            {"field": "country", "operator": "eq", "value": "US"},
            {"any": [{"field": "age", "operator": "between", "value": [18, 65]}]},
            {"not": {"field": "tags", "operator": "contains", "value": "vip"}},
        ]
    }
    script = f"""
import importlib, json, pathlib
for path in sorted(pathlib.Path("sandbox_client").rglob("*.py")):
    importlib.import_module(".".join(path.with_suffix("").parts).removesuffix(".__init__"))
from sandbox_client.models.segment_request import SegmentRequest
body = {{"name": "Adults in the US", "rules": json.loads({json.dumps(json.dumps(rule))})}}
assert SegmentRequest.from_dict(body).to_dict() == body, SegmentRequest.from_dict(body)
print("ok")
"""
    assert run([sys.executable, "-c", script], tmp_path).stdout.strip() == "ok"


def npm_tools() -> Path:
    """The directory of the npm packages' executables, installed on first use."""
    npm = shutil.which("npm")
    if npm is None:
        missing_service("npm is not installed: the TypeScript client cannot be generated")
    bin_dir = NPM_CACHE / "node_modules" / ".bin"
    if not all((bin_dir / name).exists() for name in ("openapi-typescript", "tsc")):
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        install = [str(npm), "install", "--prefix", str(NPM_CACHE), "--no-audit", "--no-fund"]
        run([*install, *NPM_PACKAGES], ROOT, timeout=600)
    return bin_dir


def test_openapi_typescript_types_compile_strictly(schema_file: Path, tmp_path: Path) -> None:
    tools = npm_tools()
    result = run(
        [str(tools / "openapi-typescript"), str(schema_file), "-o", str(tmp_path / "api.d.ts")],
        tmp_path,
    )
    assert not re.search(r"warn|error", result.stdout + result.stderr, re.IGNORECASE), (
        result.stdout + result.stderr
    )
    shutil.copy(HERE / "client.ts", tmp_path / "client.ts")
    # One line per operation: each must be in the generated paths, with its method.
    lines = ['import type { paths } from "./api";']
    for index, (method, url) in enumerate(sorted(schema_operations(schema_file))):
        lines.append(f'export type Operation{index} = paths["{url}"]["{method}"];')
    (tmp_path / "operations.ts").write_text("\n".join(lines) + "\n")
    compiled = subprocess.run(
        [str(tools / "tsc"), "--strict", "--noEmit", "client.ts", "operations.ts"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def test_examples_match_their_patterns_in_javascript(schema_file: Path, tmp_path: Path) -> None:
    # Swagger UI and the JavaScript validators read the patterns as ECMA-262 regexes: each
    # example must match there too, and a text that is only spaces must not match a pattern
    # of a field that refuses blank text (the not-blank pattern; a field that keeps its
    # whitespace, as a password does, accepts "   " and says so with the no-NUL pattern).
    node = shutil.which("node")
    if node is None:
        missing_service("node is not installed: the patterns cannot be checked in JavaScript")
    schema: dict[str, Any] = yaml.safe_load(schema_file.read_text())
    cases = [
        {
            "pattern": prop["pattern"],
            "example": prop["example"],
            "blank": 1 if prop["pattern"] == NOT_BLANK_PATTERN else None,
        }
        for component in schema["components"]["schemas"].values()
        for prop in component.get("properties", {}).values()
        if "pattern" in prop and "example" in prop
    ]
    assert len(cases) >= 5
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    script = """
const cases = require("./cases.json");
const wrong = cases.filter(({pattern, example, blank}) => {
  const regex = new RegExp(pattern, "u");
  return !regex.test(example) || (blank === 1 && regex.test(" \\t\\u00a0"));
});
console.log(JSON.stringify(wrong));
"""
    (tmp_path / "check.js").write_text(script)
    result = run([str(node), "check.js"], tmp_path)
    assert json.loads(result.stdout) == []
