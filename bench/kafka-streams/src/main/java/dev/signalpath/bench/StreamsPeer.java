package dev.signalpath.bench;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;

/**
 * The Kafka Streams peer of bench:e2e, one stream thread, at-least-once, commit every second (the
 * runner's default), reading the records signalpath writes: plain Avro binary (no Confluent framing)
 * with the contract's name in the {@code sp-schema} header and its version in
 * {@code sp-schema-version}. A record with another header fails the run: the peer must do the same
 * work as the passthrough, not skip it.
 *
 * <pre>
 *   java -jar peer.jar passthrough|monitor &lt;brokers&gt; &lt;input&gt; &lt;output&gt; &lt;count&gt; &lt;InferenceEvent .avsc&gt;
 * </pre>
 *
 * <ul>
 *   <li>{@code passthrough}: decode every InferenceEvent to a GenericRecord, encode it again into a
 *       reused buffer, produce it to the output with the input's key and headers.
 *   <li>{@code monitor}: decode, keep the valid records (confidence in [0, 1], latency ≥ 0, finite
 *       features), update per model_id the count, mean and variance of latency_ms in a state store
 *       (RocksDB, with its changelog), and emit the changes to the output (Streams' record cache
 *       folds the changes of a key between commits, as a KTable does).
 * </ul>
 *
 * Prints one JSON line: records, seconds from the first record decoded to the count-th, records/s,
 * CPU seconds over that span, peak RSS, and how long the close (flush and last commit) took.
 */
public final class StreamsPeer {
  private static final String SCHEMA_HEADER = "sp-schema";
  private static final String CONTRACT = "dev.signalpath.InferenceEvent";

  private static long count;
  private static final CountDownLatch reached = new CountDownLatch(1);
  private static long processed;
  private static long firstNs;
  private static long lastNs;
  private static double cpuAtFirst;
  private static double cpuAtLast;

  private StreamsPeer() {}

  private static double cpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
  }

  /** Called by the one stream thread after each record's work (and what it forwarded) is done. */
  private static void tick() {
    if (processed == 0) {
      firstNs = System.nanoTime();
      cpuAtFirst = cpuSeconds();
    }
    if (++processed == count) {
      lastNs = System.nanoTime();
      cpuAtLast = cpuSeconds();
      reached.countDown();
    }
  }

  /** Decodes (and for the passthrough re-encodes) InferenceEvents, checking the schema header. */
  private static final class AvroStep implements FixedKeyProcessor<byte[], byte[], Object> {
    private final Schema schema;
    private final boolean reencode;
    private FixedKeyProcessorContext<byte[], Object> context;
    private GenericDatumReader<GenericRecord> reader;
    private GenericDatumWriter<GenericRecord> writer;
    private BinaryDecoder decoder;
    private BinaryEncoder encoder;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(512);

    AvroStep(Schema schema, boolean reencode) {
      this.schema = schema;
      this.reencode = reencode;
    }

    @Override
    public void init(FixedKeyProcessorContext<byte[], Object> context) {
      this.context = context;
      this.reader = new GenericDatumReader<>(schema);
      this.writer = new GenericDatumWriter<>(schema);
    }

    @Override
    public void process(FixedKeyRecord<byte[], byte[]> record) {
      Header header = record.headers().lastHeader(SCHEMA_HEADER);
      if (header == null || !CONTRACT.equals(new String(header.value(), StandardCharsets.UTF_8))) {
        throw new IllegalStateException("record without the " + SCHEMA_HEADER + " header " + CONTRACT + ": not what signalpath writes");
      }
      try {
        decoder = DecoderFactory.get().binaryDecoder(record.value(), decoder);
        GenericRecord event = reader.read(null, decoder);
        if (reencode) {
          buffer.reset();
          encoder = EncoderFactory.get().binaryEncoder(buffer, encoder);
          writer.write(event, encoder);
          encoder.flush();
          context.forward(record.withValue(buffer.toByteArray()));
        } else {
          context.forward(record.withValue(event));
        }
      } catch (IOException e) {
        throw new IllegalStateException("cannot decode an InferenceEvent", e);
      }
      tick();
    }
  }

  private static boolean valid(GenericRecord event) {
    double confidence = (Double) event.get("confidence");
    double latency = (Double) event.get("latency_ms");
    if (!(confidence >= 0 && confidence <= 1) || !(latency >= 0)) return false;
    for (Object x : (Collection<?>) event.get("features")) {
      if (!Float.isFinite((Float) x)) return false;
    }
    return true;
  }

  /** Count, mean and M2 of latency_ms (Welford), as 24 bytes. */
  private static final Serde<double[]> STATS = Serdes.serdeFrom(
      (Serializer<double[]>) (topic, stats) -> {
        ByteBuffer bytes = ByteBuffer.allocate(24);
        for (double x : stats) bytes.putDouble(x);
        return bytes.array();
      },
      (Deserializer<double[]>) (topic, bytes) -> {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        return new double[] {buffer.getDouble(), buffer.getDouble(), buffer.getDouble()};
      });

  public static void main(String[] args) throws Exception {
    if (args.length != 6 || !List.of("passthrough", "monitor").contains(args[0])) {
      System.err.println("usage: StreamsPeer passthrough|monitor <brokers> <input> <output> <count> <InferenceEvent .avsc>");
      System.exit(2);
    }
    String workload = args[0];
    String brokers = args[1];
    String input = args[2];
    String output = args[3];
    count = Long.parseLong(args[4]);
    Schema schema = new Schema.Parser().parse(new File(args[5]));

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "bench-kafka-streams-" + workload + "-" + System.currentTimeMillis());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000);
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    Path stateDir = Files.createTempDirectory("kafka-streams-peer");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());

    StreamsBuilder builder = new StreamsBuilder();
    KStream<byte[], byte[]> events = builder.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()));
    if (workload.equals("passthrough")) {
      events.processValues(() -> new AvroStep(schema, true))
          .mapValues(value -> (byte[]) value)
          .to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
    } else {
      events.processValues(() -> new AvroStep(schema, false))
          .mapValues(value -> (GenericRecord) value)
          .filter((key, event) -> valid(event))
          .mapValues(event -> (Double) event.get("latency_ms"))
          .groupByKey(Grouped.with(Serdes.ByteArray(), Serdes.Double()))
          .aggregate(
              () -> new double[] {0, 0, 0},
              (key, latency, stats) -> {
                double n = stats[0] + 1;
                double delta = latency - stats[1];
                double mean = stats[1] + delta / n;
                return new double[] {n, mean, stats[2] + delta * (latency - mean)};
              },
              Materialized.with(Serdes.ByteArray(), STATS))
          .toStream()
          .to(output, Produced.with(Serdes.ByteArray(), STATS));
    }

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    streams.setUncaughtExceptionHandler(error -> {
      Throwable root = error;
      while (root.getCause() != null) root = root.getCause();
      System.err.println("kafka-streams peer: " + error + "\ncaused by: " + root);
      root.printStackTrace();
      System.exit(1);
      return null;
    });
    streams.start();
    if (!reached.await(600, TimeUnit.SECONDS)) {
      System.err.println("kafka-streams peer: " + processed + " of " + count + " records within 600 s");
      System.exit(1);
    }
    long closeStart = System.nanoTime();
    streams.close(Duration.ofSeconds(60));
    double closeSeconds = (System.nanoTime() - closeStart) / 1e9;
    streams.cleanUp();
    double seconds = (lastNs - firstNs) / 1e9;
    System.out.printf(
        "{\"mode\":\"kafka-streams-%s\",\"records\":%d,\"seconds\":%.3f,\"per_s\":%.1f,\"cpu_s\":%.3f,\"peak_rss_mb\":%.1f,\"close_s\":%.3f}%n",
        workload, processed, seconds, processed / seconds, cpuAtLast - cpuAtFirst, peakRssMb(), closeSeconds);
    System.exit(0);
  }

  /** VmHWM of /proc/self/status (Linux), in MB; -1 elsewhere. */
  private static double peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(Arrays.stream(line.split("\\s+")).filter(s -> s.matches("\\d+")).findFirst().orElse("-1024")) / 1024.0;
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return -1;
  }
}
