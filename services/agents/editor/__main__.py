"""`python -m services.agents.editor`: run the editor until SIGTERM."""

from services.agents.editor.agent import agent

if __name__ == "__main__":
    agent.run()
