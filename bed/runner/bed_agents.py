"""How each agent client is pointed at a gateway, headless: the one contract between bed's host
(`bed up` prints it) and the agent tier (which drives it), shipped into the runner image as
``lib/bed_agents.py``. Standard library only.

Each client is set up exactly as its own documentation tells a user to put it behind a LiteLLM
proxy: environment variables and the client's own config files, in a private ``HOME``, plus the
documented switches that keep it from calling anything but the gateway (telemetry, update checks,
plugin and model-list downloads) and from retrying a failed request (so a broken gateway fails at
once instead of after minutes of backoff). No private flag, no patched client. Measured facts and
the reasons for each switch: docs/agents-research.md.

    client = CLIENTS["gemini-cli"]
    setup = client.setup(gateway="http://litellm:4000", key="sk-...", group="codex-agent-1", home=h, work=w)
    argv = client.argv("/opt/bed-agents/gemini-cli/0.61.0/bin/gemini", "prompt", "codex-agent-1", h)
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

# The API each client speaks to its gateway.
SURFACES = {
    "responses": "OpenAI Responses API (/v1/responses)",
    "messages": "Anthropic Messages (/v1/messages)",
    "gemini": "Gemini API (/v1beta/models/{model}:streamGenerateContent)",
    "chat": "OpenAI chat completions (/v1/chat/completions)",
}
KEY_VARIABLE = "LITELLM_API_KEY"  # the one variable a config file names instead of holding the key


@dataclasses.dataclass(frozen=True)
class Setup:
    """What points a client at a gateway: its environment, and the config files to write."""

    env: dict[str, str]
    files: dict[Path, str]  # absolute path -> content

    def write(self) -> None:
        for path, content in self.files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)


class Client:
    name = ""
    title = ""
    npm = ""  # the package a user installs (npm install -g ...)
    surface = ""
    command = ""  # its executable's name
    tool = ""  # its shell tool, the one a scripted turn calls

    def tool_arguments(self, command: str) -> dict[str, Any]:
        return {"command": command}

    def setup(self, *, gateway: str, key: str, group: str, home: Path, work: Path) -> Setup:
        """``gateway``: the proxy's root URL (no /v1); ``key``: what the client sends as its key."""
        raise NotImplementedError

    def argv(self, executable: str, prompt: str, group: str, home: Path) -> list[str]:
        raise NotImplementedError

    def final_text(self, output: str, home: Path) -> str:
        """The client's last answer, from its output (or a file it wrote)."""
        raise NotImplementedError


class Codex(Client):
    # Codex 0.169.0: `codex exec` streams /v1/responses (store=false, the whole history each leg).
    # With a model it has no metadata for, it offers `exec_command` as its shell tool.
    name, title, surface, command, tool = "codex", "Codex CLI", "responses", "codex", "exec_command"
    npm = "@openai/codex"

    def tool_arguments(self, command: str) -> dict[str, Any]:
        return {"cmd": command}

    def setup(self, *, gateway: str, key: str, group: str, home: Path, work: Path) -> Setup:
        # No sandbox (bubblewrap cannot make namespaces in an unprivileged container), no approvals,
        # no analytics (ab.chatgpt.com), no plugin sync (api.github.com, chatgpt.com), no retries.
        config = (f'model = "{group}"\nmodel_provider = "bed"\nsandbox_mode = "danger-full-access"\n'
                  'approval_policy = "never"\ncheck_for_update_on_startup = false\n\n'
                  "[analytics]\nenabled = false\n\n[features]\nplugins = false\n\n"
                  f'[model_providers.bed]\nname = "bed"\nbase_url = "{gateway}/v1"\nenv_key = "OPENAI_API_KEY"\n'
                  'wire_api = "responses"\nrequest_max_retries = 0\nstream_max_retries = 0\n')
        return Setup({"CODEX_HOME": str(home / ".codex"), "OPENAI_API_KEY": key},
                     {home / ".codex/config.toml": config})

    def argv(self, executable: str, prompt: str, group: str, home: Path) -> list[str]:
        return [executable, "exec", "--skip-git-repo-check", "--ephemeral", "--color", "never",
                "-o", str(home / "last-message.txt"), prompt]

    def final_text(self, output: str, home: Path) -> str:
        last = home / "last-message.txt"
        return last.read_text() if last.is_file() else ""


class ClaudeCode(Client):
    # Claude Code 2.1.328: `claude -p` streams /v1/messages. As root it refuses bypassPermissions;
    # dontAsk with Bash allowed runs the command and denies anything else without ever prompting.
    name, title, surface, command, tool = "claude-code", "Claude Code", "messages", "claude", "Bash"
    npm = "@anthropic-ai/claude-code"

    def tool_arguments(self, command: str) -> dict[str, Any]:
        return {"command": command, "description": "Run the bed proof command"}

    def setup(self, *, gateway: str, key: str, group: str, home: Path, work: Path) -> Setup:
        return Setup({
            "ANTHROPIC_BASE_URL": gateway, "ANTHROPIC_AUTH_TOKEN": key,
            # Every model role maps to the group, so no side request names a model the gateway lacks.
            "ANTHROPIC_MODEL": group, "ANTHROPIC_DEFAULT_HAIKU_MODEL": group, "ANTHROPIC_SMALL_FAST_MODEL": group,
            "ANTHROPIC_DEFAULT_SONNET_MODEL": group, "ANTHROPIC_DEFAULT_OPUS_MODEL": group,
            "CLAUDE_CONFIG_DIR": str(home / ".claude"), "CLAUDE_CODE_MAX_RETRIES": "0",
            # Without these it calls api.anthropic.com (event logging, metrics opt-out) and HEADs {base}/api/hello.
            "DISABLE_TELEMETRY": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1",
        }, {})

    def argv(self, executable: str, prompt: str, group: str, home: Path) -> list[str]:
        return [executable, "-p", prompt, "--permission-mode", "dontAsk", "--allowedTools=Bash",
                "--output-format", "stream-json", "--verbose", "--no-session-persistence"]

    def final_text(self, output: str, home: Path) -> str:
        return _result_event(output)


class GeminiCli(Client):
    # Gemini CLI 0.61.0: the native Gemini API, POST {base}/v1beta/models/<group>:streamGenerateContent.
    name, title, surface, command, tool = "gemini-cli", "Gemini CLI", "gemini", "gemini", "run_shell_command"
    npm = "@google/gemini-cli"

    def setup(self, *, gateway: str, key: str, group: str, home: Path, work: Path) -> Setup:
        # Headless it needs the auth type chosen in settings ("Invalid auth method selected"
        # otherwise) and a trusted folder. Usage statistics go to play.googleapis.com; maxAttempts 1:
        # no retries (10 by default, with backoff).
        settings = {"security": {"auth": {"selectedType": "gemini-api-key"}},
                    "privacy": {"usageStatisticsEnabled": False},
                    "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False, "maxAttempts": 1}}
        return Setup({"GEMINI_API_KEY": key, "GOOGLE_GEMINI_BASE_URL": gateway, "GEMINI_CLI_TRUST_WORKSPACE": "true"},
                     {home / ".gemini/settings.json": json.dumps(settings, indent=2) + "\n"})

    def argv(self, executable: str, prompt: str, group: str, home: Path) -> list[str]:
        return [executable, "-m", group, "--approval-mode", "yolo", "--output-format", "stream-json", "-p", prompt]

    def final_text(self, output: str, home: Path) -> str:
        """The assistant's text after its last tool result (stream-json "message" deltas)."""
        text: list[str] = []
        for event in _events(output):
            if event.get("type") == "tool_result":
                text = []
            elif event.get("type") == "message" and event.get("role") == "assistant":
                text.append(str(event.get("content", "")))
        return "".join(text)


class QwenCode(Client):
    # Qwen Code 0.24.4 (a Gemini CLI fork): OpenAI-compatible chat completions.
    name, title, surface, command, tool = "qwen-code", "Qwen Code", "chat", "qwen", "run_shell_command"
    npm = "@qwen-code/qwen-code"

    def setup(self, *, gateway: str, key: str, group: str, home: Path, work: Path) -> Setup:
        # Usage statistics go to an aliyuncs.com collector; maxRetries 0: no retries. Its background
        # memory agents (extraction after a turn, consolidation, skill review) send requests of their
        # own through the gateway after the answer, offering the shell tool: a one-turn session has
        # nothing to remember.
        settings = {"privacy": {"usageStatisticsEnabled": False}, "general": {"enableAutoUpdate": False},
                    "model": {"generationConfig": {"maxRetries": 0}},
                    "memory": {"enableManagedAutoMemory": False, "enableManagedAutoDream": False,
                               "enableAutoSkill": False}}
        return Setup({"OPENAI_API_KEY": key, "OPENAI_BASE_URL": f"{gateway}/v1", "OPENAI_MODEL": group},
                     {home / ".qwen/settings.json": json.dumps(settings, indent=2) + "\n"})

    def argv(self, executable: str, prompt: str, group: str, home: Path) -> list[str]:
        return [executable, "--auth-type", "openai", "-m", group, "--approval-mode", "yolo",
                "--output-format", "stream-json", "-p", prompt]

    def final_text(self, output: str, home: Path) -> str:
        return _result_event(output)


class OpenCode(Client):
    # OpenCode 1.18.33: the AI SDK's OpenAI-compatible provider (bundled in the binary), from an
    # opencode.json in the working folder.
    name, title, surface, command, tool = "opencode", "OpenCode", "chat", "opencode", "bash"
    npm = "opencode-ai"

    def tool_arguments(self, command: str) -> dict[str, Any]:
        return {"command": command, "description": "Run the bed proof command"}

    def setup(self, *, gateway: str, key: str, group: str, home: Path, work: Path) -> Setup:
        config = {"$schema": "https://opencode.ai/config.json", "autoupdate": False, "share": "disabled",
                  "provider": {"bed": {"npm": "@ai-sdk/openai-compatible", "name": "LiteLLM (bed)",
                                       "options": {"baseURL": f"{gateway}/v1", "apiKey": f"{{env:{KEY_VARIABLE}}}"},
                                       "models": {group: {"name": group}}}}}
        # models.dev's model list and the update check are switched off by OpenCode's own variables.
        # At start-up it installs @opencode-ai/plugin into its config folder with npm's library,
        # which honours npm's own `offline` setting: no registry request, the install is skipped.
        return Setup({KEY_VARIABLE: key, "OPENCODE_DISABLE_MODELS_FETCH": "1", "OPENCODE_DISABLE_AUTOUPDATE": "1",
                      "npm_config_offline": "true"},
                     {work / "opencode.json": json.dumps(config, indent=2) + "\n"})

    def argv(self, executable: str, prompt: str, group: str, home: Path) -> list[str]:
        return [executable, "run", "--format", "json", "-m", f"bed/{group}", prompt]

    def final_text(self, output: str, home: Path) -> str:
        """The text parts after the last tool call (``--format json`` events)."""
        text: list[str] = []
        for event in _events(output):
            if event.get("type") == "tool_use":
                text = []
            elif event.get("type") == "text":
                part = event.get("part")
                text.append(str(part.get("text", "")) if isinstance(part, dict) else "")
        return "".join(text)


CLIENTS: dict[str, Client] = {c.name: c for c in (Codex(), ClaudeCode(), GeminiCli(), OpenCode(), QwenCode())}


def _events(output: str) -> list[dict[str, Any]]:
    out = []
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                out.append(event)
    return out


def _result_event(output: str) -> str:
    """The ``result`` of the last ``{"type": "result"}`` event (Claude Code's and Qwen Code's stream-json)."""
    for event in reversed(_events(output)):
        if event.get("type") == "result":
            return str(event.get("result", ""))
    return ""
