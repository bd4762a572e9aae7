"""Patient balances: explicit adjustments of a line's patient balance (small-balance write-offs),
with who made them, when and why.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'line_adjustment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('claim_line_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ['claim_line_id'], ['claim_line.id'], name=op.f('fk_line_adjustment_claim_line_id_claim_line')
        ),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_line_adjustment_user_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_line_adjustment')),
    )
    with op.batch_alter_table('line_adjustment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_line_adjustment_claim_line_id'), ['claim_line_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('line_adjustment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_line_adjustment_claim_line_id'))
    op.drop_table('line_adjustment')
