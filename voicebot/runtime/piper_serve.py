"""Piper's own HTTP server (`piper.http_server`), with only what the engine uses: POST /synthesize
and GET /info, and /info without the text of the last sentence spoken (Piper shows it there for its
web page, which would hand any caller's last sentence to any local process).

Runs in the Piper environment, in its own process (piper-tts is GPL-3.0; this file only adds Flask
request hooks before Piper's unchanged `main` starts its server): `python piper_serve.py ARGS...`
takes `piper.http_server`'s arguments. Started by `voicebot.runtime.piper.PiperServer`.
"""

import sys

SERVED = {("POST", "/synthesize"), ("GET", "/info")}

if __name__ == "__main__":
    sys.path.remove(sys.path[0])  # this script's folder, whose piper.py (the engine's supervisor of Piper) is not Piper
    import flask
    from piper import http_server

    start_server = flask.Flask.run

    def run_only_what_the_engine_uses(app, *args, **kwargs):
        @app.before_request
        def refuse_the_rest():
            if (flask.request.method, flask.request.path) not in SERVED:
                return flask.jsonify(error="not_found"), 404
            return None

        @app.after_request
        def no_last_sentence(response):
            if flask.request.path == "/info" and response.is_json:
                info = response.get_json()
                info.pop("last", None)
                response.set_data(flask.json.dumps(info))
            return response

        return start_server(app, *args, **kwargs)

    flask.Flask.run = run_only_what_the_engine_uses
    sys.argv[0] = "piper.http_server"
    http_server.main()
