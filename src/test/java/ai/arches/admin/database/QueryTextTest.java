package ai.arches.admin.database;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class QueryTextTest {

    @Test
    void the_code_text_and_pg_stat_statements_text_of_one_statement_compare_equal() {
        String code = """
                SELECT id, title FROM content
                WHERE organization_id = ? AND deleted_at IS NULL -- live only
                  AND tags @> '{db}'::text[] AND score > -1.5
                ORDER BY created_at DESC LIMIT 20""";
        String pgss = "SELECT id, title FROM content\nWHERE organization_id = $1 AND deleted_at IS NULL -- live only\n"
                + "  AND tags @> $2::text[] AND score > $3\nORDER BY created_at DESC LIMIT $4";
        assertThat(QueryText.normalize(code)).isEqualTo(QueryText.normalize(pgss));
    }

    @Test
    void parameter_lists_and_batched_rows_shrink_to_one() {
        assertThat(QueryText.normalize("DELETE FROM t WHERE id IN (?, ?, ?)"))
                .isEqualTo(QueryText.normalize("DELETE FROM t WHERE id IN ($1)"));
        assertThat(QueryText.normalize("INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6)"))
                .isEqualTo(QueryText.normalize("INSERT INTO t (a, b) VALUES (?, ?)"));
    }

    @Test
    void literals_keywords_and_quoted_names_are_handled() {
        assertThat(QueryText.normalize("select  \"Weird Name\", true, E'it''s', $$x$$ /* c */ from t;"))
                .isEqualTo("select \"Weird Name\", ? from t");
        assertThat(QueryText.normalize("SELECT a-1, b - 2, f(-3) FROM t2"))
                .isEqualTo("select a-?, b - ?, f(?) from t2");
        assertThat(QueryText.normalize("SELECT 1")).isNotEqualTo(QueryText.normalize("SELECT 1 FROM t"));
    }

    @Test
    void writes_and_row_locks_are_recognized() {
        assertThat(QueryText.writes(QueryText.normalize("INSERT INTO users (id) VALUES (?)"))).isTrue();
        assertThat(QueryText.writes(QueryText.normalize("WITH x AS (UPDATE runs SET s = ? RETURNING id) SELECT * FROM x")))
                .isTrue();
        assertThat(QueryText.writes(QueryText.normalize("DELETE FROM sessions WHERE id = ?"))).isTrue();
        assertThat(QueryText.writes(QueryText.normalize("SELECT id FROM runs WHERE due FOR UPDATE SKIP LOCKED"))).isTrue();
        assertThat(QueryText.writes(QueryText.normalize("SELECT updated_at, deleted FROM content WHERE id = ?"))).isFalse();
    }
}
