package ai.arches.app;

import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

import ai.arches.config.ArchesConfig;
import ai.arches.config.ConfigException;
import ai.arches.config.ConfigLoader;
import ai.arches.observability.JsonLogFormatter;

/** Reads config (exit 2 with one line on a bad value), starts the platform, stops it on SIGTERM. */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws InterruptedException {
        ArchesConfig cfg;
        try {
            cfg = ConfigLoader.load();
        } catch (ConfigException e) {
            System.err.println("arches: invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        configureLogging(cfg.log().level());
        Arches arches;
        try {
            arches = Arches.start(cfg, Clock.systemUTC());
        } catch (RuntimeException e) {
            Logger.getLogger(Main.class.getName()).log(Level.SEVERE, "start-up failed", e);
            System.err.println("arches: start-up failed: " + rootMessage(e));
            System.exit(1);
            return;
        }
        String host = cfg.server().host().equals("0.0.0.0") ? "localhost" : cfg.server().host();
        System.out.println("Arches is up on http://" + host + ":" + arches.port()
                + "  (API " + Arches.API_BASE + ", docs " + Arches.API_BASE + "/openapi.json)");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            arches.close();
            stopped.countDown();
        }, "arches-shutdown"));
        stopped.await();
    }

    private static void configureLogging(Level level) {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        Handler h = new ConsoleHandler();
        h.setFormatter(new JsonLogFormatter());
        h.setLevel(level);
        root.addHandler(h);
        root.setLevel(level);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
