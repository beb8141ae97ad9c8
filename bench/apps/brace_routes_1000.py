"""brace with 1,000 registered dynamic routes (must keep >= 0.95x of the 10-route app)."""

from apps._brace_routes import build

N_ROUTES = 1000
app = build(N_ROUTES)
