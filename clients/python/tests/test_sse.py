import unittest

from tasklane.sse import Event, parse_events


class ParseEventsTest(unittest.TestCase):
    def test_events_split_anywhere_across_chunks_come_out_whole(self):
        text = "event: task\nid: 3\ndata: {\"a\": 1}\n\n: keep-alive\n\nevent: task\r\nid: 4\r\ndata: x\r\ndata: y\r\n\r\n"
        for size in (1, 2, 3, 7, len(text)):
            chunks = [text[i:i + size] for i in range(0, len(text), size)]
            self.assertEqual(list(parse_events(chunks)), [Event("task", '{"a": 1}', "3"), Event("task", "x\ny", "4")], size)

    def test_an_event_without_a_closing_blank_line_is_not_yielded(self):
        self.assertEqual(list(parse_events(["event: task\ndata: 1\n"])), [])

    def test_the_last_id_carries_over_to_events_without_one(self):
        events = list(parse_events(["id: 7\ndata: a\n\ndata: b\n\n"]))
        self.assertEqual([e.id for e in events], ["7", "7"])
        self.assertEqual([e.event for e in events], ["message", "message"])


if __name__ == "__main__":
    unittest.main()
