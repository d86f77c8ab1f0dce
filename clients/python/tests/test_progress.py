import threading
import unittest

from tasklane._progress import ProgressPump


class ProgressPumpTest(unittest.TestCase):
    def test_a_burst_makes_few_writes_and_the_last_value_always_lands(self):
        writes = []
        landed = threading.Event()

        def write(key, update):
            writes.append((key, update))
            if update == (999, "step 999"):
                landed.set()

        pump = ProgressPump(write, interval=0.2)
        try:
            for i in range(1000):
                pump.report("t1", i, f"step {i}")
            self.assertTrue(landed.wait(10), writes[-3:])
            # A thousand reports in a burst: the first goes at once, the rest coalesce into the next write or two.
            self.assertLessEqual(len(writes), 5)
            self.assertEqual(writes[-1], ("t1", (999, "step 999")))
        finally:
            pump.stop()

    def test_close_stops_writes_and_returns_the_last_reported_value(self):
        pump = ProgressPump(lambda key, update: None, interval=60)
        try:
            pump.report("t2", 10, None)
            pump.report("t2", 35, "almost")
            self.assertEqual(pump.close("t2"), (35, "almost"))
            self.assertIsNone(pump.close("t2"))
        finally:
            pump.stop()


if __name__ == "__main__":
    unittest.main()
