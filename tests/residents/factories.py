import datetime
import itertools

from residents import services
from residents.identity import id_check_digit

_serial = itertools.count(101)


def make_id(
    born: datetime.date = datetime.date(1950, 1, 1), male: bool = True, region: str = "370102"
) -> str:
    serial = next(_serial) * 2 + (1 if male else 0)
    body = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
    return body + id_check_digit(body)


def make_household(node, room: str = "101", **kwargs):
    return services.household_create(node=node, room=room, **kwargs)


def make_resident(
    household, name: str = "张三", relation: str = "head", born=datetime.date(1950, 1, 1), male=True, **kwargs
):
    kwargs.setdefault("id_number", make_id(born, male))
    return services.resident_create(household=household, name=name, relation=relation, **kwargs)
