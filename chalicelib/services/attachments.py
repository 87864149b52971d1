"""Attachments: declare (presigned POST), confirm (copy in, then check the copy), download, delete.

The grant writes only to the upload key `uploads/<case id>/<attachment id>` (the record's `upload_key`).
Confirm copies that object server-side to the served key `cases/<case id>/<attachment id>` (the record's
`key`, a prefix no grant ever names), checks the copy and deletes the upload: whatever is posted to the grant
afterwards (it stays valid `upload_url_seconds`) never reaches what judges and organisers download. Records
made before the upload key existed (no `upload_key`) are checked where they are. Keys never derive from the
user's file name, which is kept only for the download's Content-Disposition.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Mapping

from ..domain.clock import epoch
from ..config import Settings
from ..domain.attachments import (
    CHUNK_BYTES, HEAD_BYTES, MAX_ATTACHMENTS, STREAMED, TAIL_BYTES, DeclaredFile, declare, mp4_problem,
    ooxml_problem, stream_problem,
)
from ..domain.competition import Competition
from ..domain.errors import Invalid, NotFound, VersionConflict
from ..security import new_id
from ..domain.case_record import Case
from . import cases as case_service
from .accounts import Principal
from .repositories import CaseRepository, Files


log = logging.getLogger("saiping")

ATTACHMENT = "attachment"
PRESENTATION = "presentation"     # the 综合评选 presentation (services/presentations.py), kept in the same map


def kind_of(record: Mapping[str, Any]) -> str:
    return record.get("kind") or ATTACHMENT


def _record(case: Case, attachment_id: str, kind: str = ATTACHMENT) -> dict[str, Any]:
    record = case.attachments.get(attachment_id)
    if record is None or kind_of(record) != kind:
        raise NotFound("没有找到这个附件")
    return dict(record)


def start_upload(cases: CaseRepository, comp: Competition, cfg: Settings, files: Files, principal: Principal,
                 case_id: str, raw: Any, now: datetime, *,
                 competition_of: case_service.CompetitionOf) -> dict[str, Any]:
    """Declare an attachment of the case, within its own competition's windows (`comp`: the current one)."""
    if not isinstance(raw, dict):
        raise Invalid("请求体应为 JSON 对象，含 filename、content_type、size", {"body": "应为 JSON 对象"})
    declared = declare(raw.get("filename"), raw.get("content_type"), raw.get("size"))
    target = case_service.editable(cases, comp, principal, case_id, now, competition_of=competition_of)
    if sum(kind_of(a) == ATTACHMENT for a in target.case.attachments.values()) >= MAX_ATTACHMENTS:
        raise Invalid(f"每个案例最多 {MAX_ATTACHMENTS} 个附件，请先删除不需要的附件", {"filename": "附件数量已达上限"})
    return open_upload(cases, comp, cfg, files, principal, target, declared, now)


def open_upload(cases: CaseRepository, comp: Competition, cfg: Settings, files: Files, principal: Principal,
                target: case_service.Editable, declared: DeclaredFile, now: datetime,
                kind: str = ATTACHMENT) -> dict[str, Any]:
    """Record the declared file as pending and answer with its presigned POST (the caller checked the case)."""
    case_id = target.case.id
    attachment_id = new_id()
    upload_key = f"uploads/{case_id}/{attachment_id}"
    record = {"attachment_id": attachment_id, "filename": declared.filename, "content_type": declared.content_type,
              "size": declared.size, "status": "pending", "key": f"cases/{case_id}/{attachment_id}",
              "upload_key": upload_key, "created_at": epoch(now), **({} if kind == ATTACHMENT else {"kind": kind})}
    cases.put_attachment(target.case, record, target.stage_key(target.case.competition_id or comp.id), principal.actor,
                         epoch(now), f"{kind}.declare")
    upload = files.upload_form(upload_key, declared.content_type, declared.size, cfg.upload_url_seconds)
    return {"attachment_id": attachment_id, "upload": {"url": upload["url"], "fields": upload["fields"]},
            "expires_in": cfg.upload_url_seconds}


def confirm(cases: CaseRepository, comp: Competition, files: Files, principal: Principal, case_id: str,
            attachment_id: str, now: datetime, *, competition_of: case_service.CompetitionOf) -> dict[str, Any]:
    """The stored object must exist with the declared size and the leading bytes of its type."""
    target = case_service.editable(cases, comp, principal, case_id, now, competition_of=competition_of)
    return verify(cases, comp, files, principal, target, attachment_id, now)


def verify(cases: CaseRepository, comp: Competition, files: Files, principal: Principal, target: case_service.Editable,
           attachment_id: str, now: datetime, kind: str = ATTACHMENT) -> dict[str, Any]:
    """Copy the uploaded object to the served key and check the copy (the caller checked the case may change
    now): what passes is what is served, whatever reaches the upload key later."""
    record = _record(target.case, attachment_id, kind)
    if record["status"] == "verified":
        return _confirmed(record)
    if record.get("upload_key"):     # each confirm copies to a key of its own: two at once never share one
        record["key"] = f"cases/{target.case.id}/{attachment_id}/{new_id()}"
    try:
        return _verify_copy(cases, comp, files, principal, target, record, now, kind)
    except Exception:               # refused, too late, or S3/DynamoDB failed: this confirm's copy is nobody's
        if record.get("upload_key"):
            _best_effort_delete(files, record["key"], "copy of a confirm that did not finish")
        raise


def _verify_copy(cases: CaseRepository, comp: Competition, files: Files, principal: Principal,
                 target: case_service.Editable, record: dict[str, Any], now: datetime, kind: str) -> dict[str, Any]:
    attachment_id = record["attachment_id"]
    problem = _copy_in(files, record) or _check_object(files, record)
    if problem:
        if not record.get("upload_key"):     # a record from before the upload keys: its one object
            files.delete(record["key"])
        try:
            cases.remove_attachment(target.case, attachment_id, None, principal.actor, epoch(now),
                                                f"{kind}.reject", pending_only=True)
        except VersionConflict:      # another confirm of the same file verified it meanwhile: that one stands
            pass
        else:
            if record.get("upload_key"):
                files.delete(record["upload_key"])
        raise Invalid(f"附件校验未通过：{problem}，已删除，请重新上传", {"file": problem})
    record["status"] = "verified"
    try:
        cases.put_attachment(target.case, record, target.stage_key(target.case.competition_id or comp.id),
                             principal.actor, epoch(now), f"{kind}.verify", pending_only=True)
    except VersionConflict:
        current = _record(case_service.get(cases, principal, target.case.id), attachment_id, kind)
        if current["status"] != "verified":
            raise                    # the case itself changed meanwhile (the caller's verify deletes the copy)
        _best_effort_delete(files, record["key"], "copy of a confirm that came second")
        return _confirmed(current)   # another confirm of the same file finished first: its copy is served
    _drop_upload(files, record)
    return _confirmed(record)


def _drop_upload(files: Files, record: dict[str, Any]) -> None:
    """Best effort, after the record is verified: an upload left behind is never served, and the bucket's
    lifecycle rule (infra/base.json, expire-uploads) removes it within a day."""
    if record.get("upload_key"):
        _best_effort_delete(files, record["upload_key"], "upload after confirm")


def _best_effort_delete(files: Files, key: str, what: str) -> None:
    """An object no record names (nothing serves it): deleted if S3 answers, logged if not."""
    try:
        files.delete(key)
    except Exception:
        log.exception("%s not deleted: %s", what, key)


def discard(files: Files, record: dict[str, Any]) -> None:
    """Delete every object of a record: the served one and, if it has one, its upload."""
    files.delete(record["key"])
    if record.get("upload_key"):
        files.delete(record["upload_key"])


def _copy_in(files: Files, record: dict[str, Any]) -> str | None:
    if record.get("upload_key") and not files.copy(record["upload_key"], record["key"]):
        return "没有收到文件（上传未完成）"
    return None


def _confirmed(record: dict[str, Any]) -> dict[str, Any]:
    return {"attachment_id": record["attachment_id"], "status": "verified", "size": int(record["size"]),
            "content_type": record["content_type"], "filename": record["filename"]}


def _check_object(files: Files, record: dict[str, Any]) -> str | None:
    """The served object's size, then its content by the rules of its kind (domain/attachments.py): pdf, doc,
    ppt and images streamed whole in pieces, docx/pptx by their ends, mp4 by its box headers."""
    key = record["key"]
    head = files.head(key)
    if head is None:
        return "没有收到文件（上传未完成）"
    size = int(head.get("ContentLength", -1))
    if size != int(record["size"]):
        return f"文件大小 {size} 字节与申报的 {int(record['size'])} 字节不符"
    extension = record["filename"].rsplit(".", 1)[-1].lower()
    if extension in STREAMED:
        body = files.open(key)
        try:
            return stream_problem(extension, body.iter_chunks(CHUNK_BYTES))
        finally:
            body.close()
    if extension == "mp4":
        return mp4_problem(size, lambda at, length: files.read_range(key, f"bytes={at}-{at + length - 1}"))
    return ooxml_problem(extension, files.read_range(key, f"bytes=0-{HEAD_BYTES - 1}"),
                         files.read_range(key, f"bytes=-{TAIL_BYTES}"))


def download_url(cases: CaseRepository, cfg: Settings, files: Files, principal: Principal, case_id: str,
                 attachment_id: str) -> str:
    case = case_service.get(cases, principal, case_id)
    record = _record(case, attachment_id)
    if record["status"] != "verified":
        raise NotFound("附件尚未上传完成或未通过校验")
    return files.download_url(record["key"], record["filename"], cfg.download_url_seconds)


def delete(cases: CaseRepository, comp: Competition, files: Files, principal: Principal, case_id: str,
           attachment_id: str, now: datetime, *, competition_of: case_service.CompetitionOf) -> None:
    target = case_service.editable(cases, comp, principal, case_id, now, competition_of=competition_of)
    record = _record(target.case, attachment_id)
    cases.remove_attachment(target.case, attachment_id, target.stage_key(target.case.competition_id or comp.id),
                            principal.actor, epoch(now), "attachment.delete")
    discard(files, record)


def judge_download_url(files: Files, expires_in: int, case: Case, attachment_id: str) -> str:
    """A judge's short-lived download of an attachment of a case assigned to them (the caller checked)."""
    record = _record(case, attachment_id)
    if record["status"] != "verified":
        raise NotFound("附件尚未上传完成或未通过校验")
    return files.download_url(record["key"], record["filename"], expires_in)
