package ai.arches.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import ai.arches.embedding.LocalMiniLm;
import ai.arches.embedding.Passages;

/**
 * The search benchmark's corpus, deterministic for a given set of manual pages. Candidates are
 * the pages in path order with a body of at least {@value #MIN_WORDS} words, gcloud's alpha and
 * beta pages left out (near copies of its GA pages). Every {@value #HOLD_OUT}th candidate is held
 * out: never seeded, its NAME line is a query and its text a document for the workers to embed.
 * The others, in order, are the corpus, up to the first document that reaches the target passage
 * count. Passages are cut exactly as the platform cuts them ({@link Passages}, 64 words, 12 of
 * overlap), and the model reads {@link Passages#modelInput}.
 *
 * <p>Both the extracted text and the vectors are cached in the data directory under a key that
 * hashes the page list (paths and sizes), the extraction version, the passage settings and the
 * model. The vector file is raw little-endian float32, passage after passage in corpus order, and
 * only ever grows: an interrupted embedding resumes where it stopped, and a QUICK corpus is a
 * prefix of the full one. Single-threaded except {@link #vectors}, which embeds on two threads
 * (one shared model; it is safe for concurrent use) and writes batches in order.
 */
final class Corpus {
    static final int WORDS = 64;
    static final int OVERLAP = 12;
    static final int HOLD_OUT = 25;
    static final int MIN_WORDS = 20;
    static final int DIMENSIONS = 384;
    static final int MAX_TITLE = 500;
    private static final int BATCH = 16;
    private static final int THREADS = 2;

    /** One document: its candidate index, title, body and passages (title first). */
    record Doc(int index, String path, String section, String title, String description, String body,
               List<String> passages) {}

    final String key;
    final List<Doc> docs;
    final List<Doc> heldOut;
    final int passages;
    private final Path vectorFile;

    private Corpus(String key, List<Doc> docs, List<Doc> heldOut, Path vectorFile) {
        this.key = key;
        this.docs = docs;
        this.heldOut = heldOut;
        this.passages = docs.stream().mapToInt(d -> d.passages().size()).sum();
        this.vectorFile = vectorFile;
    }

    /** The corpus of at least {@code target} passages (fewer only if the machine has too few pages). */
    static Corpus load(Path dataDir, int target) throws IOException {
        Files.createDirectories(dataDir);
        List<Path> files = ManPages.files();
        MessageDigest md = sha256();
        md.update(("manpages v" + ManPages.VERSION + " min " + MIN_WORDS + "\n").getBytes(StandardCharsets.UTF_8));
        for (Path f : files) {
            md.update((f + "\t" + Files.size(f) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        String pagesKey = HexFormat.of().formatHex(md.digest()).substring(0, 16);
        List<ManPages.Page> pages = pages(dataDir.resolve("manpages-" + pagesKey + ".bin.gz"), files);
        String key = hex(sha256(pagesKey + " passages " + WORDS + "/" + OVERLAP + " hold-out " + HOLD_OUT
                + " model " + LocalMiniLm.ID)).substring(0, 16);
        Passages splitter = new Passages(WORDS, OVERLAP);
        List<Doc> docs = new ArrayList<>();
        List<Doc> heldOut = new ArrayList<>();
        int total = 0;
        for (int i = 0; i < pages.size(); i++) {
            ManPages.Page p = pages.get(i);
            String title = p.title().length() > MAX_TITLE ? p.title().substring(0, MAX_TITLE) : p.title();
            boolean held = i % HOLD_OUT == HOLD_OUT / 2;
            if (!held && total >= target) {
                continue;
            }
            Doc d = new Doc(i, p.path(), p.section(), title, p.description(), p.body(), splitter.split(title, p.body()));
            if (held) {
                heldOut.add(d);
            } else {
                docs.add(d);
                total += d.passages().size();
            }
        }
        return new Corpus(key, docs, heldOut, dataDir.resolve("vectors-" + key + ".f32"));
    }

    /** The candidates' text, extracted once and cached (extraction reads ~20,000 gzip files). */
    private static List<ManPages.Page> pages(Path cache, List<Path> files) throws IOException {
        List<ManPages.Page> out = new ArrayList<>();
        if (Files.exists(cache)) {
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(
                    new GZIPInputStream(Files.newInputStream(cache)), 1 << 16))) {
                int n = in.readInt();
                for (int i = 0; i < n; i++) {
                    out.add(new ManPages.Page(in.readUTF(), in.readUTF(), in.readUTF(), in.readUTF(), readLong(in)));
                }
            }
            return out;
        }
        long t0 = System.nanoTime();
        System.out.printf("corpus: extracting text from %,d manual pages (once; cached in %s)%n", files.size(), cache);
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.startsWith("gcloud_alpha_") || name.startsWith("gcloud_beta_")) {
                continue;
            }
            ManPages.read(f).filter(p -> p.body().split("\\s+").length >= MIN_WORDS).ifPresent(out::add);
        }
        Path tmp = cache.resolveSibling(cache.getFileName() + ".tmp");
        try (DataOutputStream o = new DataOutputStream(new BufferedOutputStream(
                new GZIPOutputStream(Files.newOutputStream(tmp)), 1 << 16))) {
            o.writeInt(out.size());
            for (ManPages.Page p : out) {
                o.writeUTF(p.path());
                o.writeUTF(p.name());
                o.writeUTF(p.section());
                o.writeUTF(p.description().length() > 10_000 ? p.description().substring(0, 10_000) : p.description());
                writeLong(o, p.body());
            }
        }
        Files.move(tmp, cache, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.printf("corpus: %,d pages with text in %.1f s%n", out.size(), (System.nanoTime() - t0) / 1e9);
        return out;
    }

    /** Passage vectors already cached (the file holds a prefix of the corpus). */
    long cachedPassages() throws IOException {
        return Files.exists(vectorFile) ? Files.size(vectorFile) / (DIMENSIONS * 4L) : 0;
    }

    Path vectorFile() {
        return vectorFile;
    }

    /** The passage vectors, and how many of them were embedded now rather than read from the cache. */
    record Embedded(float[][] vectors, int cached, int computed, double seconds) {}

    /**
     * Every passage's unit vector, in corpus order: read from the cache, the missing tail embedded
     * now on two threads (and appended to the cache as it goes, so an interruption loses little).
     */
    Embedded vectors() throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        List<String> inputs = new ArrayList<>(passages);
        for (Doc d : docs) {
            for (int i = 0; i < d.passages().size(); i++) {
                inputs.add(Passages.modelInput(d.title(), i, d.passages().get(i)));
            }
        }
        float[][] out = new float[passages][];
        long have;
        try (FileChannel ch = FileChannel.open(vectorFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            have = Math.min(ch.size() / (DIMENSIONS * 4L), passages);
            ByteBuffer buf = ByteBuffer.allocate(DIMENSIONS * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < have; i++) {
                buf.clear();
                ch.read(buf, (long) i * DIMENSIONS * 4);
                buf.flip();
                out[i] = new float[DIMENSIONS];
                buf.asFloatBuffer().get(out[i]);
            }
            if (have < passages) {
                // A partial record from an interrupted run is cut off; the file grows from here.
                ch.truncate(have * DIMENSIONS * 4L);
                embed(inputs, (int) have, out, ch, vectorFile);
            }
        }
        return new Embedded(out, (int) have, passages - (int) have, (System.nanoTime() - t0) / 1e9);
    }

    private static void embed(List<String> inputs, int from, float[][] out, FileChannel ch, Path file)
            throws IOException, InterruptedException {
        int todo = inputs.size() - from;
        System.out.printf("corpus: embedding %,d passages with all-MiniLM-L6-v2 on %d threads; at 8-15 ms a passage "
                        + "per core this takes about %d-%d minutes of both cores, longer if they are busy (once: the "
                        + "vectors are cached in %s and later runs read them)%n",
                todo, THREADS, todo * 8 / THREADS / 60_000 + 1, todo * 15 / THREADS / 60_000 + 1, file);
        LocalMiniLm model = new LocalMiniLm();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        ArrayDeque<Future<List<float[]>>> window = new ArrayDeque<>();
        long t0 = System.nanoTime();
        long lastReport = t0;
        int next = from;
        int written = from;
        long pos = (long) from * DIMENSIONS * 4;
        ByteBuffer buf = ByteBuffer.allocate(BATCH * DIMENSIONS * 4).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (written < inputs.size()) {
                while (next < inputs.size() && window.size() < THREADS * 4) {
                    List<String> batch = inputs.subList(next, Math.min(inputs.size(), next + BATCH));
                    window.add(pool.submit(() -> model.embed(batch)));
                    next += batch.size();
                }
                List<float[]> vs;
                try {
                    vs = window.removeFirst().get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException("embedding failed at passage " + written, e.getCause());
                }
                buf.clear();
                for (float[] v : vs) {
                    if (v.length != DIMENSIONS) {
                        throw new IllegalStateException("model returned " + v.length + " dimensions");
                    }
                    out[written++] = v;
                    for (float x : v) {
                        buf.putFloat(x);
                    }
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    pos += ch.write(buf, pos);
                }
                long now = System.nanoTime();
                if (now - lastReport > 15e9 || written == inputs.size()) {
                    lastReport = now;
                    double rate = (written - from) / ((now - t0) / 1e9);
                    System.out.printf("corpus: embedded %,d / %,d passages (%.0f/s, %.1f min left)%n",
                            written, inputs.size(), rate, (inputs.size() - written) / rate / 60);
                }
            }
            ch.force(false);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The query set: NAME lines of held-out pages (no seeded document has them), spread evenly
     * over the held-out list and deduplicated, then hand-written questions in everyday words.
     */
    List<String> queries(int fromPages) {
        Set<String> out = new LinkedHashSet<>();
        List<String> names = new ArrayList<>();
        for (Doc d : heldOut) {
            String q = d.description().strip();
            if (q.split("\\s+").length >= 3 && q.length() <= 200) {
                names.add(q);
            }
        }
        double step = Math.max(1.0, names.size() / (double) fromPages);
        for (double i = 0; i < names.size() && out.size() < fromPages; i += step) {
            out.add(names.get((int) i));
        }
        for (int i = 0; out.size() < fromPages && i < names.size(); i++) {
            out.add(names.get(i));
        }
        out.addAll(PARAPHRASES);
        return List.copyOf(out);
    }

    /** Questions as people type them, none copied from a page. */
    static final List<String> PARAPHRASES = List.of(
            "how do I see which program is listening on a network port",
            "copy a directory to another machine over ssh",
            "find files modified in the last day",
            "compress a folder into an archive",
            "change who owns a file",
            "show how much disk space is left",
            "kill a process that is not responding",
            "schedule a job to run every night",
            "check the signature of a downloaded file",
            "convert a video to another format",
            "list the packages installed on the system",
            "search text in many files recursively",
            "make a new user account",
            "set an environment variable for one command",
            "mount a usb drive",
            "see the last lines of a growing log file",
            "measure how long a command takes",
            "create a virtual machine in the cloud",
            "delete a storage bucket",
            "rotate the keys of a service account",
            "give a user permission to read a project",
            "list running containers in a cluster",
            "set up a firewall rule to allow web traffic",
            "restore a database from a backup",
            "resize a disk attached to an instance",
            "read a configuration file format description",
            "allocate memory in a C program",
            "open a file and read it byte by byte",
            "wait for a child process to finish",
            "send a signal to another process",
            "format a date as text",
            "compare two files line by line",
            "sort lines and remove duplicates",
            "count words in a document",
            "encrypt a file with a password",
            "generate a new ssh key pair",
            "trace the system calls of a program",
            "debug a crashing program",
            "profile where a program spends its time",
            "configure the system clock and time zone",
            "show the kernel messages from boot",
            "restart a system service",
            "view the journal of a service",
            "change the default shell",
            "print a file with line numbers",
            "split a large file into pieces",
            "download a file from a web server",
            "check whether a host is reachable",
            "show the routing table",
            "resolve a domain name to an address",
            "manage a python virtual environment",
            "build a project from source with make",
            "link object files into an executable",
            "inspect the symbols in a shared library",
            "format source code automatically",
            "regular expression syntax",
            "terminal colors and control sequences",
            "locale and character encoding settings",
            "permissions and access control lists",
            "mailing a message from the command line");

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] sha256(String s) {
        return sha256().digest(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** writeUTF is limited to 64 KB; bodies are longer. */
    private static void writeLong(DataOutputStream o, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        o.writeInt(b.length);
        o.write(b);
    }

    private static String readLong(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
