"""Contracts and appeals: Medicare's quarterly ASP payment limits (for fee schedules priced
as a percentage of ASP), appeal tracking (edited letter, amount, sent and outcome dates,
note, author), and a denial work item's write-off requester and corrected claim.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'asp_price',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=5), nullable=False),
        sa.Column('quarter_start', sa.Date(), nullable=False),
        sa.Column('payment_limit', sa.BigInteger(), nullable=False),
        sa.Column('dosage', sa.String(length=60), nullable=True),
        sa.Column('description', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_asp_price')),
        sa.UniqueConstraint('code', 'quarter_start', name=op.f('uq_asp_price_code_quarter_start')),
    )
    with op.batch_alter_table('asp_price', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asp_price_code'), ['code'], unique=False)

    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('letter_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('amount', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('sent_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('outcome_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_appeal_created_by_id_app_user'), 'app_user', ['created_by_id'], ['id']
        )

    with op.batch_alter_table('denial_work_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('replacement_claim_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_denial_work_item_requested_by_id_app_user'), 'app_user', ['requested_by_id'], ['id']
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_denial_work_item_replacement_claim_id_claim'), 'claim', ['replacement_claim_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('denial_work_item', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_denial_work_item_replacement_claim_id_claim'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_denial_work_item_requested_by_id_app_user'), type_='foreignkey')
        batch_op.drop_column('replacement_claim_id')
        batch_op.drop_column('requested_by_id')
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_appeal_created_by_id_app_user'), type_='foreignkey')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('note')
        batch_op.drop_column('outcome_on')
        batch_op.drop_column('sent_on')
        batch_op.drop_column('amount')
        batch_op.drop_column('letter_text')
    with op.batch_alter_table('asp_price', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asp_price_code'))
    op.drop_table('asp_price')
