"""Triggers that keep the statistics' rollups equal to the feedback items they count.

`theme_counts` and `theme_customers` hold each theme's items, distinct customers and when each
customer first asked; `feedback_weeks` holds the items per UTC week, kind and area. The database
maintains them, in the transaction that writes the item, on every path that can change what they
count: capture, edits, links and unlinks, merges (one bulk UPDATE), deletes, and a deleted theme's
or area's `ON DELETE SET NULL`. So no service has to remember them, and `/stats` reads a row per
theme, and per week, kind and area, instead of every item.

Counts move by one per item (`items + 1`, `items - 1`): on PostgreSQL the UPDATE waits for the
row lock of any concurrent writer of the same row, so concurrent captures add up. Only a pair's
`first_at`, when its earliest item leaves, is read again from `feedback`, after the pair row is
locked, so that it sees every writer that got there first.

SQLite drops a table's triggers when a batch migration rebuilds it: a migration that rebuilds
`feedback` must create them again (`create_triggers`). Changing this SQL needs a migration.
"""

from __future__ import annotations

from sqlalchemy import Connection

# Every statement names the pair by workspace, theme and the customer in lower case: the same
# `lower(customer)` the statistics have always used to count a customer spelt two ways once.
_PAIR_OLD = "team_id = OLD.team_id AND theme_id = OLD.theme_id AND customer_key = lower(OLD.customer)"
_PAIR_NEW = "team_id = NEW.team_id AND theme_id = NEW.theme_id AND customer_key = lower(NEW.customer)"

# SQLite has no procedural triggers: each step carries its own condition instead of an IF.
_SQLITE_REMOVE_OLD = f"""
    UPDATE theme_counts SET items = items - 1
     WHERE team_id = OLD.team_id AND theme_id = OLD.theme_id;
    UPDATE theme_customers SET items = items - 1 WHERE {_PAIR_OLD};
    UPDATE theme_counts SET customers = customers - 1
     WHERE team_id = OLD.team_id AND theme_id = OLD.theme_id
       AND EXISTS (SELECT 1 FROM theme_customers WHERE {_PAIR_OLD} AND items = 0);
    DELETE FROM theme_customers WHERE {_PAIR_OLD} AND items = 0;
    UPDATE theme_customers SET first_at = (
        SELECT min(created_at) FROM feedback
         WHERE team_id = OLD.team_id AND theme_id = OLD.theme_id
           AND lower(customer) = lower(OLD.customer)
    ) WHERE {_PAIR_OLD} AND first_at = OLD.created_at;
"""
_SQLITE_ADD_NEW = f"""
    INSERT INTO theme_counts (team_id, theme_id, items, customers)
    SELECT NEW.team_id, NEW.theme_id, 1, 0 WHERE NEW.theme_id IS NOT NULL
    ON CONFLICT (team_id, theme_id) DO UPDATE SET items = items + 1;
    UPDATE theme_counts SET customers = customers + 1
     WHERE team_id = NEW.team_id AND theme_id = NEW.theme_id AND NEW.customer IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM theme_customers WHERE {_PAIR_NEW});
    INSERT INTO theme_customers (team_id, theme_id, customer_key, items, first_at)
    SELECT NEW.team_id, NEW.theme_id, lower(NEW.customer), 1, NEW.created_at
     WHERE NEW.theme_id IS NOT NULL AND NEW.customer IS NOT NULL
    ON CONFLICT (team_id, theme_id, customer_key)
    DO UPDATE SET items = items + 1, first_at = min(first_at, excluded.first_at);
"""
_WATCHED = "team_id, theme_id, customer, created_at"

SQLITE_TRIGGERS = {
    "trg_feedback_theme_rollup_insert": f"""
CREATE TRIGGER IF NOT EXISTS trg_feedback_theme_rollup_insert AFTER INSERT ON feedback
WHEN NEW.theme_id IS NOT NULL
BEGIN {_SQLITE_ADD_NEW} END""",
    "trg_feedback_theme_rollup_delete": f"""
CREATE TRIGGER IF NOT EXISTS trg_feedback_theme_rollup_delete AFTER DELETE ON feedback
WHEN OLD.theme_id IS NOT NULL
BEGIN {_SQLITE_REMOVE_OLD} END""",
    "trg_feedback_theme_rollup_update": f"""
CREATE TRIGGER IF NOT EXISTS trg_feedback_theme_rollup_update AFTER UPDATE OF {_WATCHED} ON feedback
WHEN OLD.theme_id IS NOT NULL OR NEW.theme_id IS NOT NULL
BEGIN {_SQLITE_REMOVE_OLD} {_SQLITE_ADD_NEW} END""",
}

# An item without an area is counted under area key 0, which no area id takes.
_WEEK_WATCHED = "team_id, created_at, kind, area_id, importance"
_SQLITE_WEEK = "date({0}.created_at, 'weekday 0', '-6 days')"
_SQLITE_WEEK_REMOVE_OLD = f"""
    UPDATE feedback_weeks SET items = items - 1, critical = critical - (OLD.importance = 'critical')
     WHERE team_id = OLD.team_id AND week = {_SQLITE_WEEK.format("OLD")} AND kind = OLD.kind
       AND area_key = coalesce(OLD.area_id, 0);
"""
_SQLITE_WEEK_ADD_NEW = f"""
    INSERT INTO feedback_weeks (team_id, week, kind, area_key, items, critical)
    VALUES (NEW.team_id, {_SQLITE_WEEK.format("NEW")}, NEW.kind, coalesce(NEW.area_id, 0), 1,
            NEW.importance = 'critical')
    ON CONFLICT (team_id, week, kind, area_key)
    DO UPDATE SET items = items + 1, critical = critical + excluded.critical;
"""
SQLITE_TRIGGERS.update(
    {
        "trg_feedback_week_rollup_insert": f"""
CREATE TRIGGER IF NOT EXISTS trg_feedback_week_rollup_insert AFTER INSERT ON feedback
BEGIN {_SQLITE_WEEK_ADD_NEW} END""",
        "trg_feedback_week_rollup_delete": f"""
CREATE TRIGGER IF NOT EXISTS trg_feedback_week_rollup_delete AFTER DELETE ON feedback
BEGIN {_SQLITE_WEEK_REMOVE_OLD} END""",
        "trg_feedback_week_rollup_update": f"""
CREATE TRIGGER IF NOT EXISTS trg_feedback_week_rollup_update AFTER UPDATE OF {_WEEK_WATCHED} ON feedback
BEGIN {_SQLITE_WEEK_REMOVE_OLD} {_SQLITE_WEEK_ADD_NEW} END""",
    }
)

POSTGRES_FUNCTION = "feedback_theme_rollup"
POSTGRES_TRIGGER = "trg_feedback_theme_rollup"
POSTGRES_WEEK_FUNCTION = "feedback_week_rollup"
POSTGRES_WEEK_TRIGGER = "trg_feedback_week_rollup"
# The Monday of the item's week in UTC, whatever the connection's TimeZone.
_POSTGRES_WEEK = "(date_trunc('week', {0}.created_at AT TIME ZONE 'UTC'))::date"
POSTGRES_DDL = (
    f"""
CREATE OR REPLACE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    left_items integer;
    left_first timestamptz;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.theme_id IS NOT NULL THEN
        UPDATE theme_counts SET items = items - 1
         WHERE team_id = OLD.team_id AND theme_id = OLD.theme_id;
        IF OLD.customer IS NOT NULL THEN
            UPDATE theme_customers SET items = items - 1 WHERE {_PAIR_OLD}
            RETURNING items, first_at INTO left_items, left_first;
            IF left_items = 0 THEN
                DELETE FROM theme_customers WHERE {_PAIR_OLD};
                UPDATE theme_counts SET customers = customers - 1
                 WHERE team_id = OLD.team_id AND theme_id = OLD.theme_id;
            ELSIF left_first = OLD.created_at THEN
                UPDATE theme_customers SET first_at = (
                    SELECT min(created_at) FROM feedback
                     WHERE team_id = OLD.team_id AND theme_id = OLD.theme_id
                       AND lower(customer) = lower(OLD.customer)
                ) WHERE {_PAIR_OLD};
            END IF;
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.theme_id IS NOT NULL THEN
        INSERT INTO theme_counts (team_id, theme_id, items, customers)
        VALUES (NEW.team_id, NEW.theme_id, 1, 0)
        ON CONFLICT (team_id, theme_id) DO UPDATE SET items = theme_counts.items + 1;
        IF NEW.customer IS NOT NULL THEN
            INSERT INTO theme_customers (team_id, theme_id, customer_key, items, first_at)
            VALUES (NEW.team_id, NEW.theme_id, lower(NEW.customer), 1, NEW.created_at)
            ON CONFLICT (team_id, theme_id, customer_key) DO UPDATE
               SET items = theme_customers.items + 1,
                   first_at = least(theme_customers.first_at, excluded.first_at)
            RETURNING items INTO left_items;
            IF left_items = 1 THEN
                UPDATE theme_counts SET customers = customers + 1
                 WHERE team_id = NEW.team_id AND theme_id = NEW.theme_id;
            END IF;
        END IF;
    END IF;
    RETURN NULL;
END
$$""",
    f"""
CREATE OR REPLACE TRIGGER {POSTGRES_TRIGGER}
AFTER INSERT OR DELETE OR UPDATE OF {_WATCHED} ON feedback
FOR EACH ROW EXECUTE FUNCTION {POSTGRES_FUNCTION}()""",
    f"""
CREATE OR REPLACE FUNCTION {POSTGRES_WEEK_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE feedback_weeks
           SET items = items - 1, critical = critical - (OLD.importance = 'critical')::integer
         WHERE team_id = OLD.team_id AND week = {_POSTGRES_WEEK.format("OLD")} AND kind = OLD.kind
           AND area_key = coalesce(OLD.area_id, 0);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO feedback_weeks (team_id, week, kind, area_key, items, critical)
        VALUES (NEW.team_id, {_POSTGRES_WEEK.format("NEW")}, NEW.kind, coalesce(NEW.area_id, 0), 1,
                (NEW.importance = 'critical')::integer)
        ON CONFLICT (team_id, week, kind, area_key) DO UPDATE
           SET items = feedback_weeks.items + 1, critical = feedback_weeks.critical + excluded.critical;
    END IF;
    RETURN NULL;
END
$$""",
    f"""
CREATE OR REPLACE TRIGGER {POSTGRES_WEEK_TRIGGER}
AFTER INSERT OR DELETE OR UPDATE OF {_WEEK_WATCHED} ON feedback
FOR EACH ROW EXECUTE FUNCTION {POSTGRES_WEEK_FUNCTION}()""",
)
POSTGRES_TRIGGERS = (POSTGRES_TRIGGER, POSTGRES_WEEK_TRIGGER)


# The figures of the items already there, for the migration that adds the rollups.
_THEME_BACKFILL = (
    """
INSERT INTO theme_counts (team_id, theme_id, items, customers)
SELECT team_id, theme_id, count(*), count(DISTINCT lower(customer))
  FROM feedback WHERE theme_id IS NOT NULL GROUP BY team_id, theme_id""",
    """
INSERT INTO theme_customers (team_id, theme_id, customer_key, items, first_at)
SELECT team_id, theme_id, lower(customer), count(*), min(created_at)
  FROM feedback WHERE theme_id IS NOT NULL AND customer IS NOT NULL
 GROUP BY team_id, theme_id, lower(customer)""",
)


def backfill(dialect: str) -> tuple[str, ...]:
    """The statements that fill the rollups from the items already there (the rollups empty)."""
    week = _POSTGRES_WEEK.format("feedback") if dialect == "postgresql" else _SQLITE_WEEK.format("feedback")
    return (
        *_THEME_BACKFILL,
        f"""
INSERT INTO feedback_weeks (team_id, week, kind, area_key, items, critical)
SELECT team_id, {week}, kind, coalesce(area_id, 0), count(*),
       sum(CASE WHEN importance = 'critical' THEN 1 ELSE 0 END)
  FROM feedback GROUP BY team_id, {week}, kind, coalesce(area_id, 0)""",
    )


def create_triggers(connection: Connection) -> None:
    """Create the triggers on `feedback` for the connection's database."""
    if connection.dialect.name == "postgresql":
        for statement in POSTGRES_DDL:
            connection.exec_driver_sql(statement)
    else:
        for statement in SQLITE_TRIGGERS.values():
            connection.exec_driver_sql(statement)


def drop_triggers(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        for trigger in POSTGRES_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON feedback")
        for function in (POSTGRES_FUNCTION, POSTGRES_WEEK_FUNCTION):
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for name in SQLITE_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
