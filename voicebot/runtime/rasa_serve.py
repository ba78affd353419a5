"""`rasa run ...` with the API token taken from the environment, not the command line (which any
local user can read in `ps`). Runs in the Rasa environment, started by `RasaProcesses`."""

import os
import sys

if __name__ == "__main__":
    token = os.environ["VOICEBOT_RASA_TOKEN"]
    sys.argv = ["rasa", "run", *sys.argv[1:], "--auth-token", token]
    from rasa.__main__ import main

    main()
