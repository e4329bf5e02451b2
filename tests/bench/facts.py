"""A year of synthetic facts for the rollup benchmark, written with set-based SQL.

Rows are inserted in time order, as a live system writes them, so a day's or a month's facts sit
together on disk as they would in production.

Ticket tracking codes start with "B", event check-in codes with "BENCH", so the synthetic rows
never clash with the demo's; each generator tops up to its target and is reused by later runs.
"""

import time

from django.db import connection


def _count(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def _run(label: str, sql: str, params: list) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(sql, params)
    print(f"  {label} in {time.perf_counter() - started:.1f} s")


def ensure_tickets(target: int) -> bool:
    have = _count("SELECT count(*) FROM demands_ticket WHERE description = 'bench'")
    if have >= target:
        print(f"Reusing {have:,} synthetic tickets.")
        return False
    _run(
        f"{target - have:,} tickets",
        """
        WITH grids AS (SELECT array_agg(id) AS ids FROM grid_gridnode WHERE level = 'grid'),
             cats AS (SELECT array_agg(id) AS ids FROM demands_ticketcategory),
             raw AS (
               SELECT n, now() - random() * interval '365 days' AS created, random() AS r, random() AS q,
                      random() AS c, random() AS s
               FROM generate_series(%s, %s) AS n
             )
        INSERT INTO demands_ticket (
          tracking_code, source, status, level, description, location_text, reporter_name,
          reporter_phone, response_due, resolution_due, is_overdue, accepted_at, resolved_at,
          closed_at, rating, rating_comment, rating_source, rated_at, created_at, updated_at,
          node_id, category_id)
        SELECT 'B' || lpad(n::text, 10, '0'),
               (ARRAY['qr','patrol','staff','hotline','open311'])[1 + floor(s * 5)::int],
               CASE WHEN r < 0.85 AND created < now() - interval '3 days' THEN 'closed' ELSE 'accepted' END,
               1, 'bench', '', '', '', created + interval '2 hours', created + interval '72 hours',
               q < 0.08, created + interval '1 hour',
               CASE WHEN r < 0.85 AND created < now() - interval '3 days'
                    THEN created + (12 + q * 48) * interval '1 hour' END,
               CASE WHEN r < 0.85 AND created < now() - interval '3 days'
                    THEN created + (13 + q * 48) * interval '1 hour' END,
               CASE WHEN r < 0.5 AND created < now() - interval '3 days' THEN 1 + (n %% 5) END,
               '', CASE WHEN r < 0.5 AND created < now() - interval '3 days' THEN 'resident' ELSE '' END,
               CASE WHEN r < 0.5 AND created < now() - interval '3 days'
                    THEN created + (14 + q * 48) * interval '1 hour' END,
               created, created,
               grids.ids[1 + (n::bigint * 7919) %% array_length(grids.ids, 1)],
               cats.ids[1 + floor(c * array_length(cats.ids, 1))::int]
        FROM raw, grids, cats
        ORDER BY created
        """,
        [have + 1, target],
    )
    return True


def ensure_demands(target: int) -> bool:
    have = _count("SELECT count(*) FROM demands_demand WHERE title = 'bench'")
    if have >= target:
        print(f"Reusing {have:,} synthetic demands.")
        return False
    _run(
        f"{target - have:,} demands",
        """
        WITH nodes AS (SELECT array_agg(id) AS ids FROM grid_gridnode WHERE level IN ('grid', 'community')),
             raw AS (SELECT n, now() - random() * interval '365 days' AS created, random() AS r
                     FROM generate_series(%s, %s) AS n)
        INSERT INTO demands_demand (title, description, kind, source, is_micro_wish, urgency, quantity,
          allows_multiple_claims, beneficiary_group, status, created_at, fulfilled_at, node_id)
        SELECT 'bench', '', 'care', 'visit', n %% 3 = 0, 'normal', 1, false, '',
               CASE WHEN r < 0.6 THEN 'fulfilled' ELSE 'open' END, created,
               CASE WHEN r < 0.6 THEN least(now(), created + r * interval '20 days') END,
               nodes.ids[1 + (n::bigint * 7919) %% array_length(nodes.ids, 1)]
        FROM raw, nodes
        ORDER BY created
        """,
        [have + 1, target],
    )
    return True


def ensure_events(target: int, per_event: int = 8) -> bool:
    have = _count("SELECT count(*) FROM services_serviceevent WHERE checkin_code LIKE 'BENCH%%'")
    if have >= target:
        print(f"Reusing {have:,} synthetic service events.")
        return False
    _run(
        f"{target - have:,} service events",
        """
        WITH nodes AS (SELECT array_agg(id) AS ids FROM grid_gridnode WHERE level IN ('grid', 'community')),
             kinds AS (SELECT array_agg(id) AS ids FROM services_eventkind),
             raw AS (SELECT n, now() - random() * interval '365 days' AS starts
                     FROM generate_series(%s, %s) AS n)
        INSERT INTO services_serviceevent (title, organizer_kind, starts_at, ends_at, place, description,
          beneficiary_count, checkin_code, kind_id, node_id, cancel_reason)
        SELECT 'bench', 'community', starts, starts + interval '2 hours', '', '', 10,
               'BENCH' || lpad(n::text, 9, '0'),
               kinds.ids[1 + n %% array_length(kinds.ids, 1)],
               nodes.ids[1 + (n::bigint * 7919) %% array_length(nodes.ids, 1)], ''
        FROM raw, nodes, kinds
        ORDER BY starts
        """,
        [have + 1, target],
    )
    _run(
        f"{(target - have) * per_event:,} participations",
        """
        INSERT INTO services_participation (role, name, hours, checked_in_at, event_id)
        SELECT CASE WHEN k %% 3 = 0 THEN 'in_service_member' ELSE 'volunteer' END, 'bench', 2,
               e.starts_at, e.id
        FROM services_serviceevent e CROSS JOIN generate_series(1, %s) AS k
        WHERE e.checkin_code LIKE 'BENCH%%'
          AND NOT EXISTS (SELECT 1 FROM services_participation p WHERE p.event_id = e.id)
        """,
        [per_event],
    )
    return True


def ensure_visits(target: int) -> bool:
    have = _count("SELECT count(*) FROM services_visit WHERE findings = 'bench'")
    if have >= target:
        print(f"Reusing {have:,} synthetic visits.")
        return False
    _run(
        f"{target - have:,} visits",
        """
        WITH households AS (SELECT array_agg(id) AS ids FROM residents_household),
             visitor AS (SELECT min(id) AS id FROM grid_user),
             raw AS (SELECT n, now() - random() * interval '365 days' AS at FROM generate_series(%s, %s) AS n)
        INSERT INTO services_visit (visited_at, findings, colour_before, colour_after, household_id,
          visitor_id)
        SELECT at, 'bench', '', '', households.ids[1 + (n::bigint * 7919) %% array_length(households.ids, 1)],
               visitor.id
        FROM raw, households, visitor
        ORDER BY at
        """,
        [have + 1, target],
    )
    return True


def ensure_year(tickets: int) -> None:
    """A year of facts, and every metric rolled up over them once they are new: the incremental
    job and the dashboards are timed against a complete store, as in production."""
    started = time.perf_counter()
    seeded = [
        ensure_tickets(tickets),
        ensure_demands(tickets // 10),
        ensure_events(tickets // 40),
        ensure_visits(tickets // 4),
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Facts ready in {time.perf_counter() - started:.1f} s.")
    if any(seeded):
        from grid import rollup

        started = time.perf_counter()
        cells = rollup.rebuild()
        print(f"Every metric rolled up over them in {time.perf_counter() - started:.1f} s ({cells:,} cells).")
