-- A passage row (64 words of text, their tsvector and a 1,544-byte vector: about 2.7 kB) still
-- passed the 2 kB toast target once vectors stayed in the row, so PostgreSQL moved the tsvector
-- or the text out instead. A keyword query matching a common word then detoasted the tsvector of
-- every passage it scanned (measured: 333,000 buffers and 513 ms for one query over 100,000
-- passages). Rows up to 4 kB now stay whole in their page; longer ones are still compressed or
-- moved out, so no row ever exceeds a page.
ALTER TABLE content_passages SET (toast_tuple_target = 4080);
