"""Payments: how each payer's 835 remittances are posted (review first, matched only, or all),
and the claim-level remark codes of a remittance (MOA/MIA).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 04:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('payer', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'era_posting',
                sa.Enum('review', 'matched', 'all', name='eraposting', native_enum=False, length=32),
                nullable=False,
                server_default='review',
            )
        )
    with op.batch_alter_table('remittance_claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remark_codes', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table('remittance_claim', schema=None) as batch_op:
        batch_op.drop_column('remark_codes')
    with op.batch_alter_table('payer', schema=None) as batch_op:
        batch_op.drop_column('era_posting')
