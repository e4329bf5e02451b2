from celery import shared_task

from demands import services


@shared_task(name="demands.tasks.escalate_overdue")
def escalate_overdue() -> int:
    """Flag tickets past their deadline and hand each up one level. Safe to run twice: a ticket
    escalated once gets new deadlines and is not touched again until those pass."""
    return services.escalate_overdue()


@shared_task(name="demands.tasks.auto_close_resolved")
def auto_close_resolved() -> int:
    """Close tickets resolved seven days ago without a rating. Safe to run twice."""
    return services.auto_close_resolved()


@shared_task(name="demands.tasks.hand_over_orphaned")
def hand_over_orphaned() -> int:
    """Hand the tickets of people who left (post ended, account disabled) to the next handler.
    Ending a post hands its tickets over at once; this sweep catches the rest. Safe to run twice."""
    return services.hand_over_orphaned()
