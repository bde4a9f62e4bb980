package ai.arches.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.encoder.Encoder;

/**
 * Response compression: brotli (native, through brotli4j, quality 1) or gzip (the JDK's zlib, level 1), chosen from
 * Accept-Encoding by q-value, brotli winning ties. Both run at their fastest levels: measured with
 * ContentPageJsonBench on a 40 KB page, brotli quality 1 costs what gzip level 1 does (about
 * 130 us) and is 3% smaller, while quality 4 cost four times as much for 9%; the aim is fewer
 * bytes on the wire without making the API CPU-bound.
 * When the native library cannot load on this platform, brotli is simply never offered.
 */
final class Compression {
    private static final Logger LOG = Logger.getLogger(Compression.class.getName());
    static final String GZIP = "gzip";
    static final String BROTLI = "br";

    private final boolean brotli;
    private final Encoder.Parameters brotliParams = new Encoder.Parameters().setQuality(1);

    Compression() {
        boolean ok;
        try {
            Brotli4jLoader.ensureAvailability();
            ok = true;
        } catch (Throwable e) {
            LOG.log(Level.WARNING, "brotli unavailable, gzip only: " + e);
            ok = false;
        }
        this.brotli = ok;
    }

    /** The coding to use for this Accept-Encoding, or null for none. */
    String choose(String acceptEncoding) {
        return negotiate(acceptEncoding, brotli, true);
    }

    /**
     * The preferred of the codings on offer for this Accept-Encoding by q-value, brotli winning
     * ties; null for none (identity). Files compressed ahead of time offer brotli whether or not
     * the native encoder loads here.
     */
    static String negotiate(String acceptEncoding, boolean brOffered, boolean gzipOffered) {
        if (acceptEncoding == null) {
            return null;
        }
        double gzip = -1;
        double br = -1;
        double star = -1;
        for (String part : acceptEncoding.split(",")) {
            String[] p = part.trim().split(";");
            String coding = p[0].trim().toLowerCase(Locale.ROOT);
            double q = 1.0;
            for (int i = 1; i < p.length; i++) {
                String param = p[i].trim();
                if (param.startsWith("q=")) {
                    try {
                        q = Double.parseDouble(param.substring(2));
                    } catch (NumberFormatException e) {
                        q = 0;
                    }
                }
            }
            switch (coding) {
                case "gzip", "x-gzip" -> gzip = q;
                case "br" -> br = q;
                case "*" -> star = q;
                default -> { }
            }
        }
        if (gzip < 0) {
            gzip = star;
        }
        if (br < 0) {
            br = star;
        }
        if (brOffered && br > 0 && br >= gzip) {
            return BROTLI;
        }
        return gzipOffered && gzip > 0 ? GZIP : null;
    }

    byte[] encode(String coding, byte[] bytes) {
        if (BROTLI.equals(coding)) {
            try {
                return Encoder.compress(bytes, brotliParams);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, bytes.length / 4));
        try (GZIPOutputStream gz = new GZIPOutputStream(out, 8192) {
            {
                def.setLevel(Deflater.BEST_SPEED);
            }
        }) {
            gz.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
