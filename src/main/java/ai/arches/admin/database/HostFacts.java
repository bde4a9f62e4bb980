package ai.arches.admin.database;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The machine the tuning advice is for: cores and memory as the JVM sees them (a container's
 * limits when it has them), and whether the data directory's disk spins, read from
 * {@code /sys/block/<dev>/queue/rotational}. {@code disk} is {@code ssd} or {@code hdd};
 * {@code diskSource} says how that was decided, including when it was assumed.
 */
record HostFacts(int cores, long memoryBytes, String memory, String memorySource, String disk, String diskSource) {

    boolean ssd() {
        return disk.equals("ssd");
    }

    static HostFacts detect(String dataDirectory) {
        long memory = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
        Disk d = disk(dataDirectory, Path.of("/sys"));
        return new HostFacts(Runtime.getRuntime().availableProcessors(), memory, Tuning.human(memory),
                "the JVM's view of this machine (OperatingSystemMXBean; a container's limit when one is set)",
                d.ssd() ? "ssd" : "hdd", d.source());
    }

    record Disk(boolean ssd, String source) {}

    /** {@code sys}: where sysfs is mounted (tests point it at a copy). */
    static Disk disk(String dataDirectory, Path sys) {
        if (dataDirectory == null) {
            return new Disk(true, "the data directory is hidden from this role (it needs pg_read_all_settings, "
                    + "which the pg_monitor role `make setup` grants includes): assumed SSD");
        }
        long dev;
        try {
            dev = ((Number) Files.getAttribute(Path.of(dataDirectory), "unix:dev")).longValue();
        } catch (IOException | RuntimeException e) {
            return new Disk(true, "could not stat the data directory " + dataDirectory
                    + " from here (PostgreSQL may run on another machine or in a container): assumed SSD");
        }
        // glibc's encoding of st_dev (gnu_dev_major / gnu_dev_minor)
        long major = ((dev >>> 8) & 0xfffL) | ((dev >>> 32) & 0xfffff000L);
        long minor = (dev & 0xffL) | ((dev >>> 12) & 0xffffff00L);
        Path block = sys.resolve("dev/block/" + major + ":" + minor);
        // A partition's queue lives with its whole disk, one level up.
        for (Path q : List.of(block.resolve("queue/rotational"), block.resolve("../queue/rotational"))) {
            try {
                String v = Files.readString(q).trim();
                String device = q.toRealPath().getParent().getParent().getFileName().toString();
                boolean spins = v.equals("1");
                // virtio and Xen disks say "rotational" unless the hypervisor passes the backing
                // store's nature through, which it rarely does.
                boolean virtual = device.startsWith("vd") || device.startsWith("xvd");
                return new Disk(!spins, "the data directory " + dataDirectory + " is on " + device
                        + ", whose queue/rotational is " + v + (spins ? " (spinning)" : " (solid state)")
                        + (spins && virtual ? "; a virtual disk reports that whatever backs it: if that is "
                        + "SSD, use random_page_cost 1.1 and effective_io_concurrency 200" : ""));
            } catch (IOException e) {
                // not this level; try the next
            }
        }
        return new Disk(true, "the data directory " + dataDirectory + " is on device " + major + ":" + minor
                + ", which is no block device sysfs describes (an overlay, network or virtual file system): assumed SSD");
    }
}
