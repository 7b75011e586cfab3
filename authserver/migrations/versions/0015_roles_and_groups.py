"""roles (per API), groups, group members, and role grants to users, groups and clients

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 00:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _grant_table(name: str, holder: str, holder_table: str) -> None:
    op.create_table(
        name,
        sa.Column(holder, sa.Integer(),
                  sa.ForeignKey(f'{holder_table}.id', ondelete='CASCADE'), nullable=False),
        sa.Column('role_id', sa.Integer(), sa.ForeignKey('roles.id', ondelete='CASCADE'),
                  nullable=False),
        sa.PrimaryKeyConstraint(holder, 'role_id'),
    )
    op.create_index(f'ix_{name}_role_id', name, ['role_id'])


def upgrade() -> None:
    op.create_table(
        'roles',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('audience', sa.String(length=500), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('description', sa.Text(), nullable=False, server_default=''),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.UniqueConstraint('audience', 'name'),
    )
    op.create_table(
        'groups',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(length=64), nullable=False, unique=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
    )
    op.create_table(
        'group_members',
        sa.Column('group_id', sa.Integer(), sa.ForeignKey('groups.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'),
                  nullable=False),
        sa.PrimaryKeyConstraint('group_id', 'user_id'),
    )
    op.create_index('ix_group_members_user_id', 'group_members', ['user_id'])
    _grant_table('user_roles', 'user_id', 'users')
    _grant_table('group_roles', 'group_id', 'groups')
    _grant_table('client_roles', 'client_id', 'clients')


def downgrade() -> None:
    for table in ('client_roles', 'group_roles', 'user_roles'):
        op.drop_index(f'ix_{table}_role_id', table_name=table)
        op.drop_table(table)
    op.drop_index('ix_group_members_user_id', table_name='group_members')
    op.drop_table('group_members')
    op.drop_table('groups')
    op.drop_table('roles')
