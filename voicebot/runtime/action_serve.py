"""The rasa-sdk action server, answering only requests that carry the action token.

rasa-sdk's own server (`rasa run actions`) runs any action for anyone who reaches its port,
and the actions act with the engine's service token. Rasa sends the token as `?token=`
(`token:` in nlu/endpoints.yml); `/health` stays open for the supervisor. Runs in the Rasa
environment: `python action_serve.py PORT PACKAGE`, started by `RasaProcesses`.
"""

import hmac
import os
import sys

if __name__ == "__main__":
    from rasa_sdk.endpoint import create_app
    from sanic import response

    port, package = int(sys.argv[1]), sys.argv[2]
    expected = os.environ["VOICEBOT_ACTION_TOKEN"].encode()
    app = create_app(package, cors_origins=None)

    @app.middleware("request")
    async def require_token(request):
        if request.path == "/health":
            return None
        if not hmac.compare_digest(request.args.get("token", "").encode(), expected):
            return response.json({"error": "unauthorized"}, status=401)
        return None

    app.run("127.0.0.1", port, workers=1, access_log=False)
