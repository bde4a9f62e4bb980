-- pgvector declares its type EXTERNAL: a passage row (text, tsvector and a 1,544-byte vector)
-- passes PostgreSQL's 2 kB toast threshold, so the vector was moved to the TOAST table and every
-- exact scan fetched it from there (measured: 172 ms for 14,000 passages, 79,000 buffers; inline,
-- 16-22 ms and 4,500). PLAIN keeps vectors in the row; the text and tsvector are the columns
-- that get compressed or moved out instead, and a row stays far below a page.
ALTER TABLE content_passages ALTER COLUMN embedding SET STORAGE PLAIN;

-- SET STORAGE applies to values written from now on; vectors already stored are written again
-- (an unchanged value would keep its TOAST pointer, so it goes through its text form, which
-- round-trips float4 exactly).
UPDATE content_passages SET embedding = embedding::text::vector WHERE embedding IS NOT NULL;
