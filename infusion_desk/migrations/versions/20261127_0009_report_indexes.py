"""indexes for the manager's reports

The balance reports (aging, days in A/R, the dashboard, charges by month) read every billed
line by date of service: ``ix_claim_line_report_balances`` holds the columns they sum, in
(date, state) order, so SQLite reads the index alone and groups without sorting.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 07:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_original_claim_id'), ['original_claim_id'], unique=False)

    with op.batch_alter_table('claim_line', schema=None) as batch_op:
        batch_op.create_index(
            'ix_claim_line_report_balances',
            ['service_date', 'responsibility', 'claim_id', 'charge', 'paid', 'adjusted', 'patient_responsibility',
             'patient_paid'],
            unique=False,
        )
        batch_op.create_index(
            'ix_claim_line_authorization_service_date', ['authorization_id', 'service_date'], unique=False
        )

    with op.batch_alter_table('remittance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remittance_payment_date'), ['payment_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('remittance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remittance_payment_date'))

    with op.batch_alter_table('claim_line', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_line_authorization_service_date')
        batch_op.drop_index('ix_claim_line_report_balances')

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_original_claim_id'))
