"""brace with 10 registered dynamic routes (baseline of the routes scenario)."""

from apps._brace_routes import build

N_ROUTES = 10
app = build(N_ROUTES)
