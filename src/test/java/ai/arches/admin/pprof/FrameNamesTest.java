package ai.arches.admin.pprof;

import static org.assertj.core.api.Assertions.assertThat;

import ai.arches.admin.pprof.Pprof.Frame;

import org.junit.jupiter.api.Test;

/** How thread-dump frames and histogram classes become pprof function names. */
class FrameNamesTest {

    @Test
    void a_dump_frame_loses_its_loader_and_module_but_keeps_a_hidden_class_slash() {
        assertThat(ThreadDump.frame("java.base/java.lang.Thread.sleep(Thread.java:509)"))
                .isEqualTo(new Frame("java.lang.Thread.sleep", 509));
        assertThat(ThreadDump.frame("app//ai.arches.Foo.bar(Foo.java:12)")).isEqualTo(new Frame("ai.arches.Foo.bar", 12));
        assertThat(ThreadDump.frame("com.foo.loader/foo@9.0/com.foo.Main.run(Main.java:101)"))
                .isEqualTo(new Frame("com.foo.Main.run", 101));
        assertThat(ThreadDump.frame("java.base/jdk.internal.misc.Unsafe.park(Native Method)"))
                .isEqualTo(new Frame("jdk.internal.misc.Unsafe.park", 0));
        assertThat(ThreadDump.frame("ai.arches.Foo$$Lambda/0x000071c0c8003000.run(Unknown Source)"))
                .isEqualTo(new Frame("ai.arches.Foo$$Lambda/0x000071c0c8003000.run", 0));
    }

    @Test
    void histogram_classes_read_as_java_types() {
        assertThat(ClassHistogram.javaName("[B")).isEqualTo("byte[]");
        assertThat(ClassHistogram.javaName("[[I")).isEqualTo("int[][]");
        assertThat(ClassHistogram.javaName("[Ljava.lang.Object;")).isEqualTo("java.lang.Object[]");
        assertThat(ClassHistogram.javaName("java.util.HashMap$Node")).isEqualTo("java.util.HashMap$Node");
    }
}
