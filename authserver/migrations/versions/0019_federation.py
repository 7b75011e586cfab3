"""federation: upstream OpenID providers, linked identities, upstream sign-ins under way, and
how a sign-in was made (amr) on sessions, codes and grants

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 01:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('issuer', sa.Text(), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('client_secret', sa.Text(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('link_by_email', sa.Boolean(), nullable=False),
    sa.Column('create_users', sa.Boolean(), nullable=False),
    sa.Column('discovery', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idp_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['idp_id'], ['idps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idp_id', 'sub')
    )
    op.create_index('ix_identities_user_id', 'identities', ['user_id'])
    op.create_table('upstream_sign_ins',
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('browser', sa.String(length=64), nullable=False),
    sa.Column('idp_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('interaction_id', sa.String(length=64), nullable=True),
    sa.Column('link_user_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['idp_id'], ['idps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['link_user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('state_hash')
    )
    op.create_index('ix_upstream_sign_ins_expires_at', 'upstream_sign_ins', ['expires_at'])
    for table in ('login_sessions', 'authorization_codes', 'refresh_token_families'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('amr', sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table in ('refresh_token_families', 'authorization_codes', 'login_sessions'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('amr')
    op.drop_table('upstream_sign_ins')
    op.drop_table('identities')
    op.drop_table('idps')
