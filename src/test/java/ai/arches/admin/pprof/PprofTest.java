package ai.arches.admin.pprof;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import ai.arches.admin.pprof.Pprof.Frame;
import ai.arches.admin.pprof.Pprof.ValueType;

import org.junit.jupiter.api.Test;

class PprofTest {

    @Test
    void a_profile_reads_back_with_its_types_samples_and_frames() throws Exception {
        Pprof p = new Pprof(List.of(new ValueType("samples", "count"), new ValueType("cpu", "nanoseconds")),
                new ValueType("cpu", "nanoseconds"), 10_000_000, "test engine");
        p.add(List.of(new Frame("a.B.leaf", 12), new Frame("a.B.root", 3)), 2, 20_000_000);
        p.add(List.of(new Frame("a.B.other", 0), new Frame("a.B.root", 3)), 1, 10_000_000);
        byte[] gz = p.gzipped(1_700_000_000_000_000_000L, 2_000_000_000L);

        PprofFile f = PprofFile.parse(gz);
        assertThat(f.sampleTypes()).containsExactly("samples/count", "cpu/nanoseconds");
        assertThat(f.periodType()).isEqualTo("cpu/nanoseconds");
        assertThat(f.period()).isEqualTo(10_000_000);
        assertThat(f.comments()).containsExactly("test engine");
        assertThat(f.samples()).extracting(PprofFile.Sample::functions)
                .containsExactly(List.of("a.B.leaf", "a.B.root"), List.of("a.B.other", "a.B.root"));
        assertThat(f.total("cpu/nanoseconds", "a.B.root")).isEqualTo(30_000_000);
        String raw = GoPprof.run("-raw", gz);
        if (raw != null) {
            assertThat(raw).contains("samples/count cpu/nanoseconds", "a.B.leaf");
        }
    }
}
