# The seed document's (shared/seed/task-management.md) polling client functions, copied
# UNCHANGED: each block below is byte-for-byte a code block of the seed (seed-client.test.ts checks
# this when the seed is at hand). Only the base URL differs at run time: the test writes this file
# out with "http://localhost:8000" replaced by its server's URL. The driver at the end is ours.

import requests
import time

def wait_for_task(task_id, timeout=300):
    """Wait for task to complete with simple polling"""
    start_time = time.time()
    
    while True:
        # Check timeout
        if time.time() - start_time > timeout:
            raise TimeoutError(f"Task timeout after {timeout}s")
        
        # Get status
        response = requests.get(
            f"http://localhost:8000/api/v1/tasks/{task_id}"
        )
        response.raise_for_status()
        status = response.json()
        
        # Check if done
        if status['status'] == 'completed':
            return status['result']
        elif status['status'] == 'failed':
            raise Exception(f"Task failed: {status['error']}")
        elif status['status'] == 'cancelled':
            raise Exception("Task was cancelled")
        
        # Wait before next poll
        time.sleep(5)

import time

def wait_for_task_smart(task_id, max_wait=600):
    """Wait for task with exponential backoff"""
    interval = 2  # Start with 2 seconds
    max_interval = 30  # Max 30 seconds between polls
    elapsed = 0
    
    while elapsed < max_wait:
        response = requests.get(
            f"http://localhost:8000/api/v1/tasks/{task_id}"
        )
        status = response.json()
        
        print(f"[{elapsed}s] Status: {status['status']}, Progress: {status['progress']}%")
        
        if status['status'] in ['completed', 'failed', 'cancelled']:
            return status
        
        time.sleep(interval)
        elapsed += interval
        
        # Increase interval (exponential backoff)
        interval = min(interval * 1.5, max_interval)
    
    raise TimeoutError(f"Task did not complete within {max_wait}s")

import asyncio
import httpx

async def poll_task_async(task_id, client):
    """Async task polling"""
    while True:
        response = await client.get(
            f"http://localhost:8000/api/v1/tasks/{task_id}"
        )
        status = response.json()
        
        if status['status'] in ['completed', 'failed', 'cancelled']:
            return status
        
        await asyncio.sleep(5)

async def monitor_multiple_tasks(task_ids):
    """Monitor multiple tasks concurrently"""
    async with httpx.AsyncClient() as client:
        tasks = [poll_task_async(task_id, client) for task_id in task_ids]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        return results

def submit_with_retry(endpoint, payload, max_retries=3):
    """Submit task with retry on failure"""
    for attempt in range(max_retries):
        try:
            response = requests.post(endpoint, json=payload)
            response.raise_for_status()
            task_info = response.json()
            
            # Wait for completion
            result = wait_for_task(task_info['task_id'])
            return result
            
        except requests.exceptions.HTTPError as e:
            if e.response.status_code >= 500:  # Server error
                if attempt < max_retries - 1:
                    wait_time = 2 ** attempt  # Exponential backoff
                    print(f"Retry {attempt + 1}/{max_retries} after {wait_time}s")
                    time.sleep(wait_time)
                    continue
            raise
        except Exception as e:
            # Check if error is retryable
            if hasattr(e, 'retryable') and e.retryable:
                if attempt < max_retries - 1:
                    time.sleep(5)
                    continue
            raise
    
    raise Exception(f"Failed after {max_retries} attempts")


# ---- test driver (not from the seed) ----
import json
import sys


def _jsonable(value):
    if isinstance(value, BaseException):
        return {"exception": type(value).__name__, "message": str(value)}
    return value


def session_poll_and_cancel(task_id):
    """A poller written with one Session whose JSON defaults go on every request, bodyless ones too."""
    session = requests.Session()
    session.headers.update({"Content-Type": "application/json", "Accept": "application/json"})
    url = f"http://localhost:8000/api/v1/tasks/{task_id}"
    polled = session.get(url)
    cancelled = session.delete(url)
    listed = session.get("http://localhost:8000/api/v1/tasks")
    return {
        "sent_content_type": cancelled.request.headers.get("Content-Type"),
        "get": [polled.status_code, polled.json()["status"]],
        "delete": [cancelled.status_code, cancelled.json()],
        "list": listed.status_code,
    }


def _main():
    mode = sys.argv[1]
    try:
        if mode == "session_poll_and_cancel":
            out = session_poll_and_cancel(sys.argv[2])
        elif mode == "wait_for_task":
            out = wait_for_task(sys.argv[2], timeout=120)
        elif mode == "wait_for_task_smart":
            out = wait_for_task_smart(sys.argv[2], max_wait=120)
        elif mode == "monitor_multiple_tasks":
            out = [_jsonable(r) for r in asyncio.run(monitor_multiple_tasks(sys.argv[2:]))]
        elif mode == "submit_with_retry":
            out = submit_with_retry("http://localhost:8000/api/v1/tasks", json.loads(sys.argv[2]))
        else:
            raise SystemExit("unknown mode " + mode)
        print("RESULT " + json.dumps({"ok": out}), flush=True)
    except Exception as e:
        print("RESULT " + json.dumps({"raised": type(e).__name__, "message": str(e)}), flush=True)


if __name__ == "__main__":
    _main()
