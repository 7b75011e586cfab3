"""authorization_codes.nonce_hash and an index on (client_id, nonce_hash), for the
replayed-nonce check that every authorization request with a nonce makes (it scanned the
table: every code since the last prune). The hash, not the nonce: a nonce may be 4,096
characters, more than a PostgreSQL index entry may hold. Codes already stored get their hash.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 00:40:00
"""

import hashlib

from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table('authorization_codes') as batch:
        batch.add_column(sa.Column('nonce_hash', sa.String(length=64), nullable=True))
    codes = sa.table('authorization_codes', sa.column('id', sa.Integer),
                     sa.column('nonce', sa.Text), sa.column('nonce_hash', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(codes.c.id, codes.c.nonce)
                              .where(codes.c.nonce.is_not(None))).all()
    fill = sa.update(codes).where(codes.c.id == sa.bindparam('code_id')) \
        .values(nonce_hash=sa.bindparam('hashed'))
    for start in range(0, len(rows), BATCH):
        # The store's hash_secret: SHA-256, hex (a migration does not import the app).
        connection.execute(fill, [
            {'code_id': code_id, 'hashed': hashlib.sha256(nonce.encode('utf-8')).hexdigest()}
            for code_id, nonce in rows[start:start + BATCH]])
    op.create_index('ix_authorization_codes_client_nonce', 'authorization_codes',
                    ['client_id', 'nonce_hash'])


def downgrade() -> None:
    op.drop_index('ix_authorization_codes_client_nonce', table_name='authorization_codes')
    with op.batch_alter_table('authorization_codes') as batch:
        batch.drop_column('nonce_hash')
