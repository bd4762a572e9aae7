"""Patient balances: the payment plan a line's patient share is on, and the day it was handed
to collections (each moves the line out of "patient due").

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 06:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('claim_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_plan_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('collections_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_claim_line_payment_plan_id'), ['payment_plan_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_claim_line_payment_plan_id_payment_plan'), 'payment_plan', ['payment_plan_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('claim_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_claim_line_payment_plan_id_payment_plan'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_claim_line_payment_plan_id'))
        batch_op.drop_column('collections_on')
        batch_op.drop_column('payment_plan_id')
