"""Writes for resident deliberation: 议事—协调—表决—实施, one ballot per participant."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from demands import lists
from demands.choices import TopicOrigin, TopicStatus
from demands.models import Ballot, Meeting, Project, Ticket, Topic, TopicOption, TopicParticipant
from demands.topic_flow import TOPIC
from grid.errors import ConflictError
from grid.models import GridNode, User


def _move(topic: Topic, action: str, **changes) -> Topic:
    current = Topic.objects.select_for_update().get(pk=topic.pk)
    move = TOPIC.check(action, current.status)
    Topic.objects.filter(pk=topic.pk).update(status=move.target, **changes)
    current.refresh_from_db()
    return current


@transaction.atomic
def topic_create(
    *, node: GridNode, title: str, description: str, origin: str, raised_by: User | None = None, tickets=()
) -> Topic:
    lists.community_of(node)
    if not title.strip() or not description.strip():
        raise ValidationError(_("A topic needs a title and a description."))
    topic = Topic(
        node=node, title=title.strip(), description=description.strip(), origin=origin, raised_by=raised_by
    )
    topic.full_clean()
    topic.save()
    if tickets:
        topic.source_tickets.set(tickets)
    return topic


def _common_ancestor(nodes: list[GridNode]) -> GridNode:
    steplen = GridNode.steplen
    prefix = nodes[0].path
    for node in nodes[1:]:
        length = 0
        while length < min(len(prefix), len(node.path)) and prefix[length] == node.path[length]:
            length += 1
        prefix = prefix[: length - length % steplen]
    return GridNode.objects.get(path=prefix)


@transaction.atomic
def topic_from_tickets(*, tickets: list[Ticket], title: str, description: str, actor: User) -> Topic:
    """Promote a cluster of similar tickets (e.g. parking complaints) to a deliberation topic,
    placed at the lowest node that holds them all."""
    if len(tickets) < 2:
        raise ValidationError(_("Choose at least two similar tickets."))
    node = _common_ancestor([ticket.node for ticket in tickets])
    return topic_create(
        node=node,
        title=title,
        description=description,
        origin=TopicOrigin.TICKETS,
        raised_by=actor,
        tickets=tickets,
    )


@transaction.atomic
def participant_add(
    *, topic: Topic, kind: str, name: str, resident=None, member=None, unit=None
) -> TopicParticipant:
    if topic.status in (TopicStatus.DECIDED, TopicStatus.IMPLEMENTING, TopicStatus.DONE, TopicStatus.DROPPED):
        raise ConflictError(_("The deliberation is over; no one can join now."), code="closed")
    participant = TopicParticipant(
        topic=topic, kind=kind, name=name.strip(), resident=resident, member=member, unit=unit
    )
    participant.full_clean()
    try:
        with transaction.atomic():
            participant.save()
    except IntegrityError as error:  # the same person added twice at once: the first one stands
        raise ConflictError(_("This person already takes part."), code="already_participant") from error
    return participant


@transaction.atomic
def meeting_record(
    *, topic: Topic, held_at: datetime.datetime, minutes: str, place: str = "", attendees=()
) -> Meeting:
    """A consultation meeting with its minutes; the topic is then in consultation."""
    if not minutes.strip():
        raise ValidationError({"minutes": _("Write down what was said and agreed.")})
    topic = _move(topic, "consult")
    strangers = [a for a in attendees if a.topic_id != topic.pk]
    if strangers:
        raise ValidationError({"attendees": _("Attendees must be participants of this topic.")})
    meeting = Meeting.objects.create(
        topic=topic, held_at=held_at, place=place.strip(), minutes=minutes.strip()
    )
    meeting.attendees.set(attendees)
    return meeting


@transaction.atomic
def option_add(*, topic: Topic, title: str, description: str = "") -> TopicOption:
    if topic.status not in (TopicStatus.RAISED, TopicStatus.CONSULTING):
        raise ConflictError(_("Options are set before the vote opens."), code="closed")
    return TopicOption.objects.create(topic=topic, title=title.strip(), description=description.strip())


@transaction.atomic
def voting_open(*, topic: Topic) -> Topic:
    if topic.options.count() < 2:
        raise ValidationError(_("A vote needs at least two options."))
    if not topic.participants.exists():
        raise ValidationError(_("A vote needs participants."))
    return _move(topic, "open_vote")


@transaction.atomic
def ballot_cast(*, topic: Topic, participant: TopicParticipant, option: TopicOption) -> Ballot:
    """One ballot per participant: a second one is refused, even if both arrive at once."""
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    if topic.status != TopicStatus.VOTING:
        raise ConflictError(_("The vote is not open."), code="not_voting")
    if participant.topic_id != topic.pk or option.topic_id != topic.pk:
        raise ValidationError(_("The participant and the option must belong to this topic."))
    try:
        with transaction.atomic():
            return Ballot.objects.create(topic=topic, participant=participant, option=option)
    except IntegrityError as error:
        raise ConflictError(
            _("%(name)s has already voted.") % {"name": participant.name}, code="already_voted"
        ) from error


def tally(topic: Topic) -> list[tuple[TopicOption, int]]:
    options = topic.options.annotate(votes=Count("ballots")).order_by("-votes", "id")
    return [(option, option.votes) for option in options]


@transaction.atomic
def topic_decide(*, topic: Topic, actor: User, decision: str = "") -> Topic:
    """Close the vote; the decision is the leading option unless staff word it otherwise."""
    results = tally(topic)
    if not results or results[0][1] == 0:
        raise ValidationError(_("No one has voted yet."))
    if len(results) > 1 and results[0][1] == results[1][1] and not decision.strip():
        raise ValidationError({"decision": _("The vote is tied; write down the decision agreed.")})
    winner, votes = results[0]
    text = decision.strip() or _("%(option)s (%(votes)d of %(total)d votes)") % {
        "option": winner.title,
        "votes": votes,
        "total": sum(v for _o, v in results),
    }
    return _move(topic, "decide", decision=text, decided_at=timezone.now())


@transaction.atomic
def topic_implement(*, topic: Topic, project_title: str, owner_name: str, **project_fields) -> Project:
    """Carry the decision out as a project on the project list."""
    topic = _move(topic, "implement")
    return lists.project_create(
        node=topic.node, title=project_title, owner_name=owner_name, source_topic=topic, **project_fields
    )


@transaction.atomic
def topic_finish(*, topic: Topic, outcome: str, praised: bool = False) -> Topic:
    if not outcome.strip():
        raise ValidationError({"outcome": _("Say what came of it.")})
    return _move(topic, "finish", outcome=outcome.strip(), praised=praised)


@transaction.atomic
def topic_drop(*, topic: Topic, reason: str) -> Topic:
    if not reason.strip():
        raise ValidationError({"outcome": _("Say why the topic is dropped.")})
    return _move(topic, "drop", outcome=reason.strip())
