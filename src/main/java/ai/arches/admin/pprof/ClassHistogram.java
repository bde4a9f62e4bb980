package ai.arches.admin.pprof;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.management.JMException;
import javax.management.ObjectName;

import ai.arches.admin.pprof.Pprof.Frame;

/**
 * Every live object, by class: the JVM's class histogram (the diagnostic command
 * GC.class_histogram, what {@code jmap -histo:live} prints) as a heap profile whose only frame is
 * the class. The JVM keeps no allocation site for objects allocated before anyone asked, so this
 * is what a heap profile without {@code seconds} can show. It costs a full GC and a heap walk,
 * stopping the world: an operator's tool, not a dashboard's.
 */
final class ClassHistogram {
    // "   1:         21956        1239992  [B (java.base@25.0.3)"
    private static final Pattern ROW = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

    private ClassHistogram() {}

    static byte[] profile(String comment, long nowNanos) throws JMException {
        String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        Pprof profile = Kind.LIVE.newProfile(comment, 1);
        for (String row : histogram.split("\n")) {
            Matcher m = ROW.matcher(row);
            if (m.find()) {
                profile.add(List.of(new Frame(javaName(m.group(3)), 0)),
                        Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
            }
        }
        return profile.gzipped(nowNanos, 0);
    }

    /** {@code [B} is {@code byte[]}, {@code [[Ljava.lang.String;} is {@code java.lang.String[][]}. */
    static String javaName(String jvm) {
        int dims = 0;
        while (dims < jvm.length() && jvm.charAt(dims) == '[') {
            dims++;
        }
        if (dims == 0) {
            return jvm;
        }
        String element = switch (jvm.substring(dims)) {
            case "B" -> "byte";
            case "C" -> "char";
            case "S" -> "short";
            case "I" -> "int";
            case "J" -> "long";
            case "Z" -> "boolean";
            case "F" -> "float";
            case "D" -> "double";
            case String s when s.startsWith("L") && s.endsWith(";") -> s.substring(1, s.length() - 1);
            case String s -> s;
        };
        return element + "[]".repeat(dims);
    }
}
