"""people's own accounts: email_verified, mailed links, what the account page shows of sessions

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 01:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('email_verified', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('verify_before_sign_in', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('login_sessions') as batch:
        batch.add_column(sa.Column('address', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('user_agent', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('last_used_at', sa.BigInteger(), nullable=True))
    op.create_table('account_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('used_at', sa.BigInteger(), nullable=True),
    sa.Column('voided_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index('ix_account_links_user_id', 'account_links', ['user_id'])
    op.create_index('ix_account_links_expires_at', 'account_links', ['expires_at'])


def downgrade() -> None:
    op.drop_table('account_links')
    with op.batch_alter_table('login_sessions') as batch:
        batch.drop_column('last_used_at')
        batch.drop_column('user_agent')
        batch.drop_column('address')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('verify_before_sign_in')
        batch.drop_column('email_verified')
