"""apis and api_scopes: the operator's own APIs (RFC 8707); the resources of codes and grants

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('apis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=500), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('access_token_ttl', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('audience')
    )
    op.create_table('api_scopes',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('api_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['api_id'], ['apis.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_index('ix_api_scopes_api_id', 'api_scopes', ['api_id'])
    for table in ('authorization_codes', 'refresh_token_families'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('resources', sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in ('refresh_token_families', 'authorization_codes'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('resources')
    op.drop_table('api_scopes')
    op.drop_table('apis')
