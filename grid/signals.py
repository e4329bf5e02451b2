"""What grid tells the other apps, which grid itself never imports."""

from django.dispatch import Signal

# Sent inside the transaction that ends a post (`assignment=`): the apps hand over the work the
# person held there (open tickets), so that it commits or rolls back with the end of the post.
assignment_ended = Signal()

# Sent before a node and its subtree are archived (`node=`): an app with open work there raises
# a ValidationError saying what to finish first, and nothing is archived.
node_archiving = Signal()
