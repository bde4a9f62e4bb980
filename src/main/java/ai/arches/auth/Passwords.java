package ai.arches.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import ai.arches.common.ServiceUnavailableException;
import ai.arches.config.ArchesConfig;

import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Argon2id password hashes in PHC string form ({@code $argon2id$v=19$m=..,t=..,p=..$salt$hash}),
 * computed by Bouncy Castle. Each hash holds {@code memory_kib} of memory and a core for tens of
 * milliseconds, so a fair semaphore bounds how many run at once; the rest queue in order instead
 * of thrashing the CPU, but for at most {@code max_wait}: a request that cannot start its hash by
 * then is refused (503 with Retry-After), so a flood of registrations or logins costs latecomers
 * a quick refusal instead of an unbounded queue in front of every other login. Verification uses
 * the parameters stored in the hash, so raising the cost later does not lock out existing users.
 */
final class Passwords {
    private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getDecoder();
    private static final int SALT_BYTES = 16;
    private static final int HASH_BYTES = 32;

    private final ArchesConfig.Password cost;
    private final Semaphore gate;
    private final long maxWaitNanos;
    private final long retryAfterSeconds;
    private final AtomicLong computed = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final SecureRandom random = new SecureRandom();
    /** Verified against when the email is unknown, so timing does not reveal which emails exist. */
    private final String decoy;

    Passwords(ArchesConfig.Password cost) {
        this.cost = cost;
        this.gate = new Semaphore(cost.maxConcurrent(), true);
        this.maxWaitNanos = cost.maxWait().toNanos();
        this.retryAfterSeconds = Math.max(1, (cost.maxWait().toMillis() + 999) / 1000);
        this.decoy = hash("decoy-password-for-unknown-users");
    }

    String hash(String password) {
        byte[] salt = new byte[SALT_BYTES];
        random.nextBytes(salt);
        byte[] out = derive(password, salt, cost.memoryKib(), cost.iterations(), cost.parallelism(), HASH_BYTES, () -> { });
        return "$argon2id$v=19$m=" + cost.memoryKib() + ",t=" + cost.iterations() + ",p=" + cost.parallelism()
                + "$" + B64.encodeToString(salt) + "$" + B64.encodeToString(out);
    }

    boolean verify(String password, String phc) {
        return verify(password, phc, () -> { });
    }

    /**
     * Checks a password; {@code admitted} runs once a hash slot is held, just before the hash,
     * and may refuse the attempt by throwing (then nothing is computed). Work that must be
     * bounded by the slots rather than by the queue, such as holding a rate-limit reservation,
     * belongs there.
     */
    boolean verify(String password, String phc, Runnable admitted) {
        String[] parts = phc.split("\\$");
        // ["", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash]
        if (parts.length != 6 || !parts[1].equals("argon2id")) {
            return false;
        }
        int m = 0;
        int t = 0;
        int p = 0;
        for (String kv : parts[3].split(",")) {
            String[] pair = kv.split("=", 2);
            int v = Integer.parseInt(pair[1]);
            switch (pair[0]) {
                case "m" -> m = v;
                case "t" -> t = v;
                case "p" -> p = v;
                default -> {
                    return false;
                }
            }
        }
        byte[] salt = B64D.decode(parts[4]);
        byte[] expected = B64D.decode(parts[5]);
        byte[] actual = derive(password, salt, m, t, p, expected.length, admitted);
        return MessageDigest.isEqual(expected, actual);
    }

    /** Spends the same work as a real check, for unknown accounts. */
    void verifyDecoy(String password, Runnable admitted) {
        verify(password, decoy, admitted);
    }

    /** Argon2 computations started since construction (the decoy's included). */
    long hashesComputed() {
        return computed.get();
    }

    /** Requests refused because no hash slot freed up within {@code max_wait}. */
    long refusedForLoad() {
        return refused.get();
    }

    private byte[] derive(String password, byte[] salt, int memoryKib, int iterations, int parallelism, int len,
                          Runnable admitted) {
        boolean acquired;
        // The timed tryAcquire honours the semaphore's fairness (the untimed one would barge).
        try {
            acquired = gate.tryAcquire(maxWaitNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServiceUnavailableException("interrupted while waiting to hash a password", e);
        }
        if (!acquired) {
            refused.incrementAndGet();
            throw new ServiceUnavailableException("too many password checks in progress; retry in "
                    + retryAfterSeconds + " s", retryAfterSeconds);
        }
        try {
            admitted.run();
            computed.incrementAndGet();
            Argon2Parameters params = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                    .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                    .withSalt(salt)
                    .withMemoryAsKB(memoryKib)
                    .withIterations(iterations)
                    .withParallelism(parallelism)
                    .build();
            Argon2BytesGenerator gen = new Argon2BytesGenerator();
            gen.init(params);
            byte[] out = new byte[len];
            gen.generateBytes(password.getBytes(StandardCharsets.UTF_8), out);
            return out;
        } finally {
            gate.release();
        }
    }
}
