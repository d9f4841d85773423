// The JVM of the agent demo (`npm run demo:agent`): a "service" whose two writer threads deadlock on their two
// locks, and a worker that sleeps. jvm.status reports on it; jvm.thread_dump finds the deadlock. It prints "ready"
// once the deadlock holds, and runs until it is killed. Run with `java DemoService.java` (no build step).
public class DemoService {
  static final Object ORDERS = new Object();
  static final Object BILLING = new Object();

  public static void main(String[] args) throws Exception {
    Thread orders = new Thread(() -> { synchronized (ORDERS) { pause(); synchronized (BILLING) { } } }, "orders-writer");
    Thread billing = new Thread(() -> { synchronized (BILLING) { pause(); synchronized (ORDERS) { } } }, "billing-writer");
    Thread worker = new Thread(() -> { try { Thread.sleep(3_600_000); } catch (InterruptedException e) { } }, "worker");
    orders.start(); billing.start(); worker.start();
    Thread.sleep(300);
    System.out.println("ready");
    System.out.flush();
    Thread.sleep(3_600_000);
  }

  static void pause() {
    try { Thread.sleep(100); } catch (InterruptedException e) { }
  }
}
