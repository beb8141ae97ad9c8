"""brace_app's endpoints behind a memory rate limit on every route (a budget no run reaches):
what counting costs per request (issue 19 asks >= 0.95x of the same routes without)."""

from apps import brace_app
from brace.core import App  # bare: brace_app brings the docs routes
from brace.ratelimit import RateLimiter

app = App()
RateLimiter(app, default="1000000000/minute", strategy="fixed-window")
app.include(brace_app.app)
