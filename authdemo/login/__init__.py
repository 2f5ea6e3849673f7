"""`authdemo login`, `open` and `logout`: managed login in the browser, and the token page.

- `flow.py`: the loopback redirect (state check, `?error=`, PKCE code exchange, timeout);
- `server.py`: the one HTTP server on 127.0.0.1 (Host checked, a per-run secret in the path)
  that takes the redirect at `/callback` and then serves the token page;
- `page.py`: the token page (both tokens decoded side by side, the differing claims marked, a
  button per route and token), HTML rendered here, script and style in `static/`;
- `store.py`: the login's tokens, kept 0600 beside the state file for `test` and `token`;
- `commands.py`: what the commands do (the click layer in `cli/login.py` only prints).
"""
