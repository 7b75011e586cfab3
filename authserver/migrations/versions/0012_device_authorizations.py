"""device_authorizations: the device authorization grant (RFC 8628)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 17:15:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_authorizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_code_hash', sa.String(length=64), nullable=False),
    sa.Column('user_code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('resources', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('auth_time', sa.BigInteger(), nullable=True),
    sa.Column('interval', sa.Integer(), nullable=False),
    sa.Column('last_polled_at', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('device_code_hash')
    )
    op.create_index('ix_device_authorizations_user_code_hash', 'device_authorizations',
                    ['user_code_hash'])
    op.create_index('ix_device_authorizations_expires_at', 'device_authorizations',
                    ['expires_at'])


def downgrade() -> None:
    op.drop_table('device_authorizations')
