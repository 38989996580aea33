"""The queue service's tables on SQLite (see migrations/0002_sqs.sql); one transaction a call."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from lamina.services.sqs.models import (
    Accepted,
    OutgoingMessage,
    Queue,
    QueueCounts,
    ReceivedMessage,
    SystemAttribute,
)
from lamina.services.sqs.receipts import Receipt, new_nonce
from lamina.services.sqs.store import (
    ReceiptState,
    ReceiveOutcome,
    ReceiveSpec,
    decode_attributes,
    encode_attributes,
    sequence_number,
)
from lamina.storage.sqlite import SqliteStorage

SELECT_QUEUES = (
    "SELECT id, account, region, name, attributes, tags, created, modified FROM sqs_queues"
)
INSERT_QUEUE = (
    "INSERT INTO sqs_queues (account, region, name, attributes, tags, created, modified)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_QUEUE = "UPDATE sqs_queues SET attributes = ?, tags = ?, modified = ? WHERE id = ?"
DELETE_QUEUE = "DELETE FROM sqs_queues WHERE id = ?"
DELETE_QUEUE_MESSAGES = "DELETE FROM sqs_messages WHERE queue_id = ?"
DELETE_QUEUE_DEDUPLICATION = "DELETE FROM sqs_deduplication WHERE queue_id = ?"

INSERT_MESSAGE = (
    "INSERT INTO sqs_messages (queue_id, message_id, body, attributes, md5_body,"
    " md5_attributes, sent_ms, visible_ms, sender_id, trace_header, group_id, dedup_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
FIND_DUPLICATE = (
    "SELECT message_id, seq FROM sqs_deduplication"
    " WHERE queue_id = ? AND scope = ? AND dedup_id = ? AND expires_ms > ?"
)
REMEMBER_DEDUPLICATION = (
    "INSERT OR REPLACE INTO sqs_deduplication"
    " (queue_id, scope, dedup_id, message_id, seq, expires_ms) VALUES (?, ?, ?, ?, ?, ?)"
)
FORGET_DEDUPLICATION = "DELETE FROM sqs_deduplication WHERE queue_id = ? AND expires_ms <= ?"
DELETE_EXPIRED = "DELETE FROM sqs_messages WHERE queue_id = ? AND sent_ms < ?"

_MESSAGE_COLUMNS = (
    "seq, message_id, body, attributes, md5_body, md5_attributes, sent_ms, receive_count,"
    " first_receive_ms, sender_id, trace_header, group_id, dedup_id, source_arn"
)
# Standard queues: visible messages, oldest visibility first (the index order).
SELECT_VISIBLE = (
    f"SELECT {_MESSAGE_COLUMNS} FROM sqs_messages WHERE queue_id = ? AND visible_ms <= ?"
    " ORDER BY visible_ms, seq LIMIT ?"
)
# FIFO queues: in storage order, skipping every group that has a message in flight.
SELECT_VISIBLE_FIFO = (
    f"SELECT {_MESSAGE_COLUMNS} FROM sqs_messages AS m WHERE queue_id = ? AND visible_ms <= ?"
    " AND NOT EXISTS (SELECT 1 FROM sqs_messages AS f WHERE f.queue_id = m.queue_id"
    " AND f.group_id = m.group_id AND f.visible_ms > ? AND f.receive_count > 0)"
    " ORDER BY seq LIMIT ?"
)
MARK_RECEIVED = (
    "UPDATE sqs_messages SET visible_ms = ?, receive_count = receive_count + 1,"
    " first_receive_ms = coalesce(first_receive_ms, ?), receipt = ? WHERE seq = ?"
)
MOVE_TO_DEAD_LETTER = (
    "INSERT INTO sqs_messages (queue_id, message_id, body, attributes, md5_body,"
    " md5_attributes, sent_ms, visible_ms, sender_id, trace_header, group_id, dedup_id,"
    " source_arn) SELECT ?, message_id, body, attributes, md5_body, md5_attributes, sent_ms,"
    " ?, sender_id, trace_header, group_id, dedup_id, ? FROM sqs_messages WHERE seq = ?"
)
DELETE_MESSAGE = "DELETE FROM sqs_messages WHERE seq = ?"
NEXT_VISIBLE = "SELECT min(visible_ms) FROM sqs_messages WHERE queue_id = ? AND visible_ms > ?"
SELECT_RECEIPT = "SELECT receipt, visible_ms FROM sqs_messages WHERE seq = ? AND queue_id = ?"
SET_VISIBILITY = "UPDATE sqs_messages SET visible_ms = ? WHERE seq = ?"
COUNT_MESSAGES = (
    "SELECT coalesce(sum(visible_ms <= ?), 0),"
    " coalesce(sum(visible_ms > ? AND receive_count > 0), 0),"
    " coalesce(sum(visible_ms > ? AND receive_count = 0), 0)"
    " FROM sqs_messages WHERE queue_id = ?"
)


class SqliteSqsStore:
    def __init__(self, storage: SqliteStorage) -> None:
        self._storage = storage

    async def load_queues(self) -> list[Queue]:
        def run(db: sqlite3.Connection) -> list[Queue]:
            return [_queue(row) for row in db.execute(SELECT_QUEUES)]

        return await self._storage.transact(run)

    async def insert_queue(
        self,
        account: str,
        region: str,
        name: str,
        attributes: Mapping[str, str],
        tags: Mapping[str, str],
        now: float,
    ) -> Queue:
        row = (account, region, name, _json(attributes), _json(tags), now, now)

        def run(db: sqlite3.Connection) -> Queue:
            cursor = db.execute(INSERT_QUEUE, row)
            return _queue((cursor.lastrowid, *row))

        return await self._storage.transact(run)

    async def update_queue(self, queue: Queue) -> None:
        args = (_json(queue.attributes), _json(queue.tags), queue.modified, queue.id)
        await self._storage.transact(lambda db: db.execute(UPDATE_QUEUE, args))

    async def delete_queue(self, queue_id: int) -> None:
        def run(db: sqlite3.Connection) -> None:
            for statement in (DELETE_QUEUE, DELETE_QUEUE_MESSAGES, DELETE_QUEUE_DEDUPLICATION):
                db.execute(statement, (queue_id,))

        await self._storage.transact(run)

    async def append(self, messages: Sequence[OutgoingMessage], now_ms: int) -> list[Accepted]:
        if all(m.deduplication_id is None and m.group_id is None for m in messages):
            # Standard queues: no ids to read back, one executemany for the whole batch.
            rows = [_message_row(m) for m in messages]
            await self._storage.transact(lambda db: db.executemany(INSERT_MESSAGE, rows))
            return [Accepted(m.message_id, None) for m in messages]

        def run(db: sqlite3.Connection) -> list[Accepted]:
            accepted = []
            cleaned: set[int] = set()
            for m in messages:
                dedup = m.deduplication_id
                if dedup is not None:
                    if m.queue_id not in cleaned:
                        db.execute(FORGET_DEDUPLICATION, (m.queue_id, now_ms))
                        cleaned.add(m.queue_id)
                    key = (m.queue_id, m.deduplication_scope, dedup)
                    original = db.execute(FIND_DUPLICATE, (*key, now_ms)).fetchone()
                    if original is not None:
                        accepted.append(Accepted(original[0], sequence_number(original[1]), True))
                        continue
                cursor = db.execute(INSERT_MESSAGE, _message_row(m))
                seq = cursor.lastrowid
                assert seq is not None
                if dedup is not None:
                    db.execute(
                        REMEMBER_DEDUPLICATION,
                        (
                            m.queue_id,
                            m.deduplication_scope,
                            dedup,
                            m.message_id,
                            seq,
                            now_ms + DEDUPLICATION_WINDOW_MS,
                        ),
                    )
                fifo = m.group_id is not None
                accepted.append(Accepted(m.message_id, sequence_number(seq) if fifo else None))
            return accepted

        return await self._storage.transact(run)

    async def receive(self, spec: ReceiveSpec) -> ReceiveOutcome:
        return await self._storage.transact(lambda db: _receive(db, spec))

    async def delete(
        self, queue_id: int, fifo: bool, receipts: Sequence[Receipt], now_ms: int
    ) -> list[ReceiptState]:
        def run(db: sqlite3.Connection) -> list[ReceiptState]:
            states = []
            for receipt in receipts:
                state = _check(db, queue_id, receipt, now_ms, fifo)
                if state is ReceiptState.OK:
                    db.execute(DELETE_MESSAGE, (receipt.seq,))
                states.append(state)
            return states

        return await self._storage.transact(run)

    async def change_visibility(
        self, queue_id: int, changes: Sequence[tuple[Receipt, int]], now_ms: int
    ) -> list[ReceiptState]:
        def run(db: sqlite3.Connection) -> list[ReceiptState]:
            states = []
            for receipt, visible_ms in changes:
                state = _check(db, queue_id, receipt, now_ms, False)
                if state is ReceiptState.OK:
                    db.execute(SET_VISIBILITY, (visible_ms, receipt.seq))
                states.append(state)
            return states

        return await self._storage.transact(run)

    async def counts(self, queue_id: int, now_ms: int, retention_ms: int) -> QueueCounts:
        def run(db: sqlite3.Connection) -> QueueCounts:
            db.execute(DELETE_EXPIRED, (queue_id, now_ms - retention_ms))
            row = db.execute(COUNT_MESSAGES, (now_ms, now_ms, now_ms, queue_id)).fetchone()
            return QueueCounts(int(row[0]), int(row[1]), int(row[2]))

        return await self._storage.transact(run)

    async def purge(self, queue_id: int) -> None:
        await self._storage.transact(lambda db: db.execute(DELETE_QUEUE_MESSAGES, (queue_id,)))


# FIFO deduplication interval: five minutes.
DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000


def _receive(db: sqlite3.Connection, spec: ReceiveSpec) -> ReceiveOutcome:
    now = spec.now_ms
    db.execute(DELETE_EXPIRED, (spec.queue_id, now - spec.retention_ms))
    dead_letter = spec.dead_letter
    # Read a few more than asked for when some may be moved to the dead-letter queue instead.
    limit = spec.max_messages * (4 if dead_letter else 1)
    if spec.fifo:
        rows = db.execute(SELECT_VISIBLE_FIFO, (spec.queue_id, now, now, limit)).fetchall()
    else:
        rows = db.execute(SELECT_VISIBLE, (spec.queue_id, now, limit)).fetchall()
    delivered: list[ReceivedMessage] = []
    moved = False
    for row in rows:
        seq, receive_count = row[0], row[7]
        if dead_letter is not None and receive_count >= dead_letter.max_receive_count:
            db.execute(
                MOVE_TO_DEAD_LETTER, (dead_letter.queue_id, now, dead_letter.source_arn, seq)
            )
            db.execute(DELETE_MESSAGE, (seq,))
            moved = True
            continue
        if len(delivered) == spec.max_messages:
            break
        nonce = new_nonce()
        db.execute(MARK_RECEIVED, (now + spec.visibility_ms, now, nonce, seq))
        delivered.append(_delivery(row, Receipt(spec.queue_id, seq, nonce), now, spec.fifo))
    next_visible = db.execute(NEXT_VISIBLE, (spec.queue_id, now)).fetchone()[0]
    return ReceiveOutcome(delivered, next_visible, moved)


def _delivery(row: Any, receipt: Receipt, now_ms: int, fifo: bool) -> ReceivedMessage:
    (
        seq,
        message_id,
        body,
        attributes,
        md5_body,
        md5_attributes,
        sent_ms,
        receive_count,
        first_receive_ms,
        sender_id,
        trace_header,
        group_id,
        dedup_id,
        source_arn,
    ) = row
    system = {
        SystemAttribute.SENDER_ID: sender_id,
        SystemAttribute.SENT_TIMESTAMP: str(sent_ms),
        SystemAttribute.APPROXIMATE_RECEIVE_COUNT: str(receive_count + 1),
        SystemAttribute.APPROXIMATE_FIRST_RECEIVE_TIMESTAMP: str(first_receive_ms or now_ms),
    }
    if trace_header is not None:
        system[SystemAttribute.AWS_TRACE_HEADER] = trace_header
    if fifo:
        system[SystemAttribute.SEQUENCE_NUMBER] = sequence_number(seq)
        system[SystemAttribute.MESSAGE_GROUP_ID] = group_id
        if dedup_id is not None:
            system[SystemAttribute.MESSAGE_DEDUPLICATION_ID] = dedup_id
    if source_arn is not None:
        system[SystemAttribute.DEAD_LETTER_QUEUE_SOURCE_ARN] = source_arn
    return ReceivedMessage(
        message_id,
        receipt.encode(),
        body,
        md5_body,
        md5_attributes,
        decode_attributes(attributes),
        {str(k): v for k, v in system.items()},
    )


def _check(
    db: sqlite3.Connection, queue_id: int, receipt: Receipt, now_ms: int, fifo: bool
) -> ReceiptState:
    row = db.execute(SELECT_RECEIPT, (receipt.seq, queue_id)).fetchone()
    if row is None:
        return ReceiptState.GONE
    if row[0] != receipt.nonce:
        return ReceiptState.STALE
    if fifo and row[1] <= now_ms:
        return ReceiptState.EXPIRED
    return ReceiptState.OK


def _queue(row: Any) -> Queue:
    id_, account, region, name, attributes, tags, created, modified = row
    return Queue(
        int(id_),
        account,
        region,
        name,
        json.loads(attributes) if isinstance(attributes, str) else attributes,
        json.loads(tags) if isinstance(tags, str) else tags,
        float(created),
        float(modified),
    )


def _message_row(m: OutgoingMessage) -> tuple[Any, ...]:
    return (
        m.queue_id,
        m.message_id,
        m.body,
        encode_attributes(m.attributes),
        m.md5_of_body,
        m.md5_of_attributes,
        m.sent_ms,
        m.visible_ms,
        m.sender_id,
        m.trace_header,
        m.group_id,
        m.deduplication_id,
    )


def _json(value: Mapping[str, str]) -> str:
    return json.dumps(dict(value), separators=(",", ":"))
