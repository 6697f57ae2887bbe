"""Slack's external file upload: `files.getUploadURLExternal` hands out an upload URL (on the
emulator itself) and a file id, the bytes are POSTed there, and `files.completeUploadExternal`
makes the file usable, for instance in an image block's `slack_file`."""

from __future__ import annotations

import json
from typing import Any

from bot.emulator.state import TEAM_ID, EmulatorState

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Slack's own ceiling for one uploaded file.
MAX_FILE_BYTES = 1024 * 1024 * 1024


def _mimetype(content: bytes) -> str:
    return "image/png" if content.startswith(PNG_SIGNATURE) else "application/octet-stream"


class FileMethods(EmulatorState):
    """The files.* methods of the upload flow, and the upload URL they point at."""

    def upload_url(self, file_id: str) -> str:
        return self.url.replace("/api/", f"/upload/v1/{file_id}")

    def uploaded(self, file_id: str) -> bytes | None:
        """The bytes received for `file_id`, if any."""
        found = self.files.get(file_id)
        return found["content"] if found else None

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = str(args.get("filename") or "")
        try:
            length = int(args.get("length") or 0)
        except ValueError:
            length = 0
        if not filename or not 0 < length <= MAX_FILE_BYTES:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": ["[ERROR] filename and a length > 0 are required"]},
            }
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = {
            "id": file_id,
            "name": filename,
            "title": filename,
            "length": length,
            "content": None,
            "mimetype": "",
            "completed": False,
        }
        return {"ok": True, "upload_url": self.upload_url(file_id), "file_id": file_id}

    def receive_upload(self, file_id: str, content: bytes) -> tuple[int, str]:
        """The upload URL's answer to a POST of `content`: (HTTP status, text body)."""
        found = self.files.get(file_id)
        if found is None or found["completed"]:
            return 404, "file_not_found"
        found["content"] = content
        found["mimetype"] = _mimetype(content)
        return 200, f"OK - {len(content)}"

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        raw = args.get("files") or "[]"
        try:
            wanted = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            wanted = None
        if not isinstance(wanted, list) or not wanted:
            return {"ok": False, "error": "invalid_arguments"}
        done: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for item in wanted:
            found = self.files.get(str(item.get("id", ""))) if isinstance(item, dict) else None
            if found is None:
                return {"ok": False, "error": "file_not_found"}
            content = found["content"]
            # Slack finishes only files whose bytes arrived in full, as announced.
            if content is None or len(content) != found["length"]:
                return {"ok": False, "error": "upload_incomplete"}
            done.append((found, item))
        for found, item in done:
            found["completed"] = True
            found["title"] = str(item.get("title") or found["name"])
        return {"ok": True, "files": [self._file_info(found) for found, _ in done]}

    def _file_info(self, found: dict[str, Any]) -> dict[str, Any]:
        file_id, name = found["id"], found["name"]
        return {
            "id": file_id,
            "name": name,
            "title": found["title"],
            "mimetype": found["mimetype"],
            "filetype": "png" if found["mimetype"] == "image/png" else "binary",
            "size": len(found["content"] or b""),
            "is_public": False,
            "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{file_id}/{name}",
            "permalink": f"https://switchboard-demo.slack.com/files/{file_id}/{name}",
            "channels": [],
            "shares": {},
        }
