"""The claims a grant asked for (OIDC Core §5.5), the session id a sign-in shares with its
tokens (sid), the clients each sign-in has logged in to, and their back-channel logout URIs
(OpenID Connect Back-Channel Logout 1.0)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('authorization_codes') as batch:
        batch.add_column(sa.Column('claims', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('sid', sa.String(length=43), nullable=True))
    with op.batch_alter_table('refresh_token_families') as batch:
        batch.add_column(sa.Column('claims', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('sid', sa.String(length=43), nullable=True))
    with op.batch_alter_table('login_sessions') as batch:
        batch.add_column(sa.Column('sid', sa.String(length=43), nullable=True))
        batch.create_index('ix_login_sessions_sid', ['sid'], unique=True)
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('backchannel_logout_uri', sa.Text(), nullable=True))
    op.create_table('login_session_clients',
    sa.Column('session_id_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['session_id_hash'], ['login_sessions.id_hash'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id_hash', 'client_id')
    )


def downgrade() -> None:
    op.drop_table('login_session_clients')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('backchannel_logout_uri')
    with op.batch_alter_table('login_sessions') as batch:
        batch.drop_index('ix_login_sessions_sid')
        batch.drop_column('sid')
    with op.batch_alter_table('refresh_token_families') as batch:
        batch.drop_column('sid')
        batch.drop_column('claims')
    with op.batch_alter_table('authorization_codes') as batch:
        batch.drop_column('sid')
        batch.drop_column('claims')
