"""apierrors: one error envelope and exact rate limiting for Django REST framework."""

__version__ = "0.1.0.dev0"
