"""authorization_codes: an index on (client_id, nonce), for the replayed-nonce check that every
authorization request with a nonce makes (it scanned the table: all codes since the last prune)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 00:40:00
"""

from alembic import op


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_authorization_codes_client_nonce', 'authorization_codes',
                    ['client_id', 'nonce'])


def downgrade() -> None:
    op.drop_index('ix_authorization_codes_client_nonce', table_name='authorization_codes')
