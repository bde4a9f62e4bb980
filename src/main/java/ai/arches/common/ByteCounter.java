package ai.arches.common;

import java.io.OutputStream;

/** An output stream that only counts: the size of what a serializer writes, with nothing buffered. */
public final class ByteCounter extends OutputStream {
    private long count;

    @Override
    public void write(int b) {
        count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
        count += len;
    }

    public long count() {
        return count;
    }
}
