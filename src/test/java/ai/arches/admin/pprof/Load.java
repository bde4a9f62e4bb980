package ai.arches.admin.pprof;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Work for a profile to find, in methods whose names the tests look for: CPU burnt, memory
 * allocated or retained, a monitor fought over (a monitor and a lock), sleeping, a parked virtual thread. Close stops it.
 */
final class Load implements AutoCloseable {
    static final String VIRTUAL_THREAD = "pprof-test-virtual";

    private volatile boolean stop;
    private final List<Thread> threads = new ArrayList<>();
    private final Object monitor = new Object();
    private final ReentrantLock lock = new ReentrantLock();
    private final CountDownLatch parked = new CountDownLatch(1);
    private final List<byte[]> retained = new ArrayList<>();
    /** Written so the JIT cannot drop the work. */
    private volatile Object sink;
    private volatile long counter;

    Load burning() {
        return platform("burn", this::burn);
    }

    Load allocating() {
        return platform("allocate", this::allocate);
    }

    /** Keeps about 16 MB allocated while recording reachable until close. */
    Load retaining() {
        return platform("retain", this::retain);
    }

    Load contending() {
        platform("contend-1", this::contend);
        return platform("contend-2", this::contend);
    }

    /** The same fight over a ReentrantLock, which threads wait for by parking. */
    Load contendingOnLock() {
        platform("lock-1", this::contendLock);
        return platform("lock-2", this::contendLock);
    }

    Load napping() {
        return platform("nap", this::nap);
    }

    /** Returns once the virtual thread runs parkVirtual, so a dump taken next finds it there. */
    Load parkingVirtual() throws InterruptedException {
        threads.add(Thread.ofVirtual().name(VIRTUAL_THREAD).start(this::parkVirtual));
        if (!parked.await(10, TimeUnit.SECONDS)) {
            throw new AssertionError("virtual thread did not start");
        }
        return this;
    }

    private Load platform(String name, Runnable work) {
        threads.add(Thread.ofPlatform().name("pprof-test-" + name).daemon().start(work));
        return this;
    }

    private void burn() {
        long x = 1;
        while (!stop) {
            for (int i = 0; i < 1_000_000; i++) {
                x = x * 6364136223846793005L + 1442695040888963407L;
            }
            counter = x;
        }
    }

    private void allocate() {
        while (!stop) {
            sink = new byte[1024 + (int) (counter++ & 1023)];
        }
    }

    private void retain() {
        for (int i = 0; i < 256 && !stop; i++) {
            synchronized (retained) {
                retained.add(new byte[64 * 1024]);
            }
            LockSupport.parkNanos(2_000_000);
        }
        while (!stop) {
            LockSupport.parkNanos(10_000_000);
        }
    }

    private void contend() {
        while (!stop) {
            synchronized (monitor) {
                long end = System.nanoTime() + 2_000_000;
                while (System.nanoTime() < end) {
                    counter++;
                }
            }
        }
    }

    private void contendLock() {
        while (!stop) {
            lock.lock();
            try {
                long end = System.nanoTime() + 2_000_000;
                while (System.nanoTime() < end) {
                    counter++;
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private void nap() {
        while (!stop) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void parkVirtual() {
        parked.countDown();
        while (!stop) {
            LockSupport.parkNanos(10_000_000);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        for (Thread t : threads) {
            t.join();
        }
        synchronized (retained) {
            retained.clear();
        }
    }
}
