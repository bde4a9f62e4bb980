package ai.arches.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.HdrHistogram.Histogram;

/**
 * An open-loop load generator: requests are scheduled at a fixed arrival rate whatever the
 * server does, and each latency is measured from the moment the request was due to be sent
 * (wrk2's method). A server that stalls therefore shows its stall in every request that was due
 * meanwhile, instead of the generator politely waiting (coordinated omission).
 *
 * <p>A fixed number of keep-alive HTTP/1.1 connections, each served by a virtual thread, take
 * due requests from one queue. Usage:
 * {@code OpenLoop BASE_URL TARGET_DIR SCENARIO RATE DURATION_S CONNECTIONS WARMUP_S}; prints one
 * JSON object.
 */
public final class OpenLoop {
    private static final Pattern NEXT = Pattern.compile("\"nextCursor\":\"([^\"]+)\"");

    record Request(String method, String path, String token, byte[] body, String org) {}

    record Job(long due, Request request) {}

    private final String host;
    private final int port;
    private final Scenario scenario;
    private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final AtomicBoolean done = new AtomicBoolean();
    // Set once every connection is open, before the first job is queued (the queue publishes them).
    private volatile long measureFrom;
    private volatile long end;

    private OpenLoop(URI base, Scenario scenario) {
        this.host = base.getHost();
        this.port = base.getPort();
        this.scenario = scenario;
    }

    public static void main(String[] args) throws Exception {
        URI base = URI.create(args[0]);
        Scenario scenario = new Scenario(args[2], Path.of(args[1]));
        double rate = Double.parseDouble(args[3]);
        int seconds = Integer.parseInt(args[4]);
        int connections = Integer.parseInt(args[5]);
        int warmup = Integer.parseInt(args[6]);
        new OpenLoop(base, scenario).run(rate, seconds, connections, warmup);
    }

    private void run(double rate, int seconds, int connections, int warmupSeconds) throws Exception {
        long period = (long) (1e9 / rate);
        // Every connection is open before the first request is due: users are connected, and a
        // schedule whose first requests each paid a TCP handshake (5,000 connections at 1,000
        // req/s: every request of a short run on a new connection) would measure connection storms.
        CountDownLatch connected = new CountDownLatch(connections);
        List<Worker> workers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            Worker w = new Worker(connected);
            workers.add(w);
            threads.add(Thread.ofVirtual().start(w));
        }
        if (!connected.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException(connected.getCount() + " of " + connections + " connections not open after 60 s");
        }
        long start = System.nanoTime() + 200_000_000L;
        measureFrom = start + warmupSeconds * 1_000_000_000L;
        end = measureFrom + seconds * 1_000_000_000L;
        long sent = 0;
        for (long due = start; due < end; due += period) {
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            queue.add(new Job(due, scenario.next()));
            sent++;
        }
        // Let the queue drain, then stop: what is still queued 10 s after the end counts as timed out.
        long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!queue.isEmpty() && System.nanoTime() < drainDeadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        int abandoned = queue.size();
        queue.clear();
        // Let requests in flight finish: interrupting a virtual thread blocked in a socket read
        // closes the socket, which would count the generator's own shutdown as server failures.
        done.set(true);
        long joinDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        for (Thread t : threads) {
            long left = joinDeadline - System.nanoTime();
            if (left > 0) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
        for (Thread t : threads) {
            t.interrupt();
        }
        for (Thread t : threads) {
            t.join(1000);
        }
        Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        long ok = 0;
        long errors = 0;
        Map<String, Long> statuses = new TreeMap<>();
        for (Worker w : workers) {
            h.add(w.histogram);
            ok += w.ok;
            errors += w.errors;
            w.statuses.forEach((k, v) -> statuses.merge(k, v, Long::sum));
        }
        long measured = h.getTotalCount();
        System.out.printf(Locale.ROOT,
                "{\"scenario\":\"%s\",\"targetRate\":%.1f,\"achievedRate\":%.1f,\"requests\":%d,\"ok\":%d,\"errors\":%d,"
                        + "\"timeouts\":%d,\"p50\":%.3f,\"p90\":%.3f,\"p95\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"statuses\":%s,"
                        + "\"connections\":%d,\"sent\":%d}%n",
                scenario.name, rate, measured / (double) seconds, measured, ok, errors, abandoned,
                ms(h, 50), ms(h, 90), ms(h, 95), ms(h, 99), ms(h, 99.9), h.getMaxValue() / 1000.0, json(statuses), connections, sent);
    }

    private static double ms(Histogram h, double p) {
        return h.getValueAtPercentile(p) / 1000.0;
    }

    private static String json(Map<String, Long> m) {
        StringBuilder sb = new StringBuilder("{");
        m.forEach((k, v) -> sb.append(sb.length() > 1 ? "," : "").append('"').append(k).append("\":").append(v));
        return sb.append('}').toString();
    }

    /** One keep-alive connection: takes due requests, sends, reads, records latency from the due time. */
    private final class Worker implements Runnable {
        final Histogram histogram = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        final Map<String, Long> statuses = new HashMap<>();
        final CountDownLatch connected;
        long ok;
        long errors;
        Socket socket;
        InputStream in;
        OutputStream out;

        Worker(CountDownLatch connected) {
            this.connected = connected;
        }

        @Override
        public void run() {
            try {
                connect();
            } catch (IOException e) {
                closeQuietly(); // the first request connects again, and counts a failure if it cannot
            } finally {
                connected.countDown();
            }
            while (!done.get()) {
                Job job;
                try {
                    job = queue.poll(100, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    break;
                }
                if (job == null) {
                    continue;
                }
                int status;
                byte[] body;
                String failure = null;
                try {
                    Response r = exchange(job.request());
                    status = r.status;
                    body = r.body;
                } catch (IOException e) {
                    closeQuietly();
                    status = -1;
                    body = null;
                    failure = "io:" + e.getClass().getSimpleName() + (e instanceof StaleConnection ? ":" + e.getMessage() : "");
                }
                long now = System.nanoTime();
                if (job.due() >= measureFrom && job.due() < end) {
                    histogram.recordValue(Math.max(0, (now - job.due()) / 1000));
                    statuses.merge(status < 0 ? failure : Integer.toString(status), 1L, Long::sum);
                    if (status >= 200 && status < 300) {
                        ok++;
                    } else {
                        errors++;
                    }
                }
                if (body != null) {
                    scenario.observe(job.request(), body);
                }
            }
            closeQuietly();
        }

        /**
         * Sends and reads one exchange. A kept-alive connection the server has meanwhile closed
         * fails before any response byte; like browsers and HTTP clients, retry that once on a new
         * connection instead of counting the server's idle close as a failed request.
         */
        private Response exchange(Request request) throws IOException {
            boolean reused = socket != null;
            if (!reused) {
                connect();
            }
            try {
                write(request);
                Response r = read();
                if (r.close) {
                    closeQuietly();
                }
                return r;
            } catch (StaleConnection | java.net.SocketException e) {
                closeQuietly();
                if (!reused) {
                    throw e;
                }
                connect();
                write(request);
                Response r = read();
                if (r.close) {
                    closeQuietly();
                }
                return r;
            }
        }

        private void connect() throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), 5000);
            socket.setSoTimeout(30_000);
            in = new BufferedInputStream(socket.getInputStream(), 65536);
            out = new BufferedOutputStream(socket.getOutputStream(), 16384);
        }

        private void write(Request r) throws IOException {
            StringBuilder sb = new StringBuilder(256);
            sb.append(r.method()).append(' ').append(r.path()).append(" HTTP/1.1\r\nHost: ").append(host).append(':')
                    .append(port).append("\r\n");
            if (r.token() != null) {
                sb.append("Authorization: Bearer ").append(r.token()).append("\r\n");
            }
            if (r.body() != null) {
                sb.append("Content-Type: application/json\r\nContent-Length: ").append(r.body().length).append("\r\n");
            }
            sb.append("\r\n");
            out.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (r.body() != null) {
                out.write(r.body());
            }
            out.flush();
        }

        private record Response(int status, byte[] body, boolean close) {}

        private Response read() throws IOException {
            int first;
            try {
                first = in.read();
            } catch (java.net.SocketException e) {
                throw new StaleConnection("reset");
            }
            if (first == -1) {
                throw new StaleConnection("eof");
            }
            String statusLine = (char) first + line();
            int status = Integer.parseInt(statusLine.substring(9, 12));
            long length = -1;
            boolean chunked = false;
            boolean close = false;
            for (String h = line(); !h.isEmpty(); h = line()) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-length:")) {
                    length = Long.parseLong(h.substring(15).trim());
                } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                    chunked = true;
                } else if (lower.startsWith("connection:") && lower.contains("close")) {
                    close = true;
                }
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            if (chunked) {
                for (long size = Long.parseLong(line().split(";")[0].trim(), 16); size > 0;
                     size = Long.parseLong(line().split(";")[0].trim(), 16)) {
                    body.write(in.readNBytes((int) size));
                    line();
                }
                line();
            } else if (length > 0) {
                body.write(in.readNBytes((int) length));
            }
            return new Response(status, body.toByteArray(), close);
        }

        private String line() throws IOException {
            StringBuilder sb = new StringBuilder(64);
            int c;
            while ((c = in.read()) != -1) {
                if (c == '\n') {
                    int n = sb.length();
                    return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
                }
                sb.append((char) c);
            }
            throw new IOException("connection closed");
        }

        private void closeQuietly() {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing a broken connection; nothing to do
                }
            }
            socket = null;
        }
    }

    /** The connection was closed by the server before a response began. */
    private static final class StaleConnection extends IOException {
        StaleConnection(String how) {
            super(how);
        }
    }

    /** What each scenario sends; lists follow the cursors their responses return. */
    static final class Scenario {
        final String name;
        private final List<String[]> reads;
        private final List<String[]> orgs;
        private final List<String[]> writers;
        private final List<String[]> logins;
        private final ConcurrentLinkedQueue<String[]> cursors = new ConcurrentLinkedQueue<>();

        Scenario(String name, Path dir) throws IOException {
            this.name = name;
            this.reads = tsv(dir.resolve(name.equals("read-uniform") ? "read-uniform.tsv" : "read-zipf.tsv"));
            this.orgs = tsv(dir.resolve("orgs.tsv"));
            this.writers = tsv(dir.resolve("writers.tsv"));
            this.logins = tsv(dir.resolve("logins.tsv"));
        }

        Request next() {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            return switch (name) {
                case "read-uniform", "read-zipf" -> read(r);
                case "list" -> list(r);
                case "create" -> create(r);
                case "login" -> login(r);
                case "mixed" -> {
                    int p = r.nextInt(100);
                    yield p < 80 ? read(r) : p < 95 ? list(r) : create(r);
                }
                default -> throw new IllegalArgumentException("unknown scenario " + name);
            };
        }

        void observe(Request request, byte[] body) {
            if (request.org() == null || cursors.size() > 10_000) {
                return;
            }
            Matcher m = NEXT.matcher(new String(body, 0, Math.min(body.length, 1 << 20), StandardCharsets.UTF_8));
            if (m.find()) {
                cursors.add(new String[] {request.org(), request.token(), m.group(1)});
            }
        }

        private Request read(ThreadLocalRandom r) {
            String[] l = reads.get(r.nextInt(reads.size()));
            return new Request("GET", l[1], l[0], null, null);
        }

        private Request list(ThreadLocalRandom r) {
            String[] next = cursors.poll();
            if (next != null) {
                return new Request("GET", "/api/v1/organizations/" + next[0] + "/content?limit=20&cursor=" + next[2],
                        next[1], null, next[0]);
            }
            String[] l = orgs.get(r.nextInt(orgs.size()));
            return new Request("GET", "/api/v1/organizations/" + l[0] + "/content?limit=20", l[1], null, l[0]);
        }

        private Request create(ThreadLocalRandom r) {
            String[] l = writers.get(r.nextInt(writers.size()));
            String body = "{\"title\":\"Load test note " + r.nextInt(1_000_000) + "\",\"body\":\"Written by the open-loop "
                    + "benchmark to measure the write path of the platform under a fixed arrival rate.\","
                    + "\"tags\":[\"bench\",\"t" + r.nextInt(20) + "\"],\"metadata\":{\"run\":" + r.nextInt(100) + "}}";
            return new Request("POST", "/api/v1/organizations/" + l[0] + "/content", l[1],
                    body.getBytes(StandardCharsets.UTF_8), null);
        }

        private Request login(ThreadLocalRandom r) {
            String[] l = logins.get(r.nextInt(logins.size()));
            String body = "{\"email\":\"" + l[0] + "\",\"password\":\"" + l[1] + "\"}";
            return new Request("POST", "/api/v1/auth/login", null, body.getBytes(StandardCharsets.UTF_8), null);
        }

        private static List<String[]> tsv(Path p) throws IOException {
            List<String[]> out = new ArrayList<>();
            for (String line : Files.readAllLines(p)) {
                if (!line.isEmpty()) {
                    out.add(line.split("\t"));
                }
            }
            return out;
        }
    }
}
