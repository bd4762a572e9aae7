"""row versions: optimistic locking of the records two workstations may save at once

``version`` on patients, insurance policies, prior authorizations, claims, remittances and
patient payments. Every save takes the next version; a save that started from an older one
is refused with who changed the record and when (``services/concurrency.py``). Existing rows
start at version 1.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('patient', 'insurance_policy', 'prior_authorization', 'claim', 'remittance', 'patient_payment')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
