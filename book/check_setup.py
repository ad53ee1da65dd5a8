# check_setup.py: a check of your setup for the winter school.
#
# Run it once in a terminal:   python check_setup.py
# It finds your Hugging Face token the way the libraries do (HF_TOKEN, then the
# saved login of `hf auth login`, then a Colab secret), asks the Hub whose
# token it is, checks the course's gated model and dataset and Inference
# Providers, and ends with "Next steps".
#
# To check one token that you have not saved anywhere, give it as the first
# argument:   python check_setup.py hf_your_token_here
#
# In Google Colab or Jupyter, run it inside the notebook, so that it can read
# your Colab secret:   import runpy; runpy.run_path("check_setup.py")
#
# The script never prints your token. It only reads; it changes nothing.
# Exit status: 0 when everything is ready, 1 when something needs your attention.

import os
import sys

# True when started as `python check_setup.py`; False inside a notebook
# (runpy.run_path), where sys.argv belongs to the notebook, not to us.
AS_SCRIPT = __name__ == "__main__"

# The course's gated model and dataset, and the model for Inference Providers.
GATED_MODEL = "meta-llama/Llama-3.2-1B"
GATED_DATASET = "openlanguagedata/flores_plus"
CHAT_MODEL = "Qwen/Qwen2.5-7B-Instruct"

# The next steps we find, in order. At the end we print them all.
next_steps = []


def step(text):
    """Remember one next step (only once, even if two checks find it)."""
    if text not in next_steps:
        next_steps.append(text)


def first_line(problem):
    """The first line of an error message, without the technical rest."""
    text = str(problem).strip() or type(problem).__name__
    return text.splitlines()[0]


def server_message(problem):
    """The Hub's own words in an error (for example 'Invalid user token.')."""
    message = getattr(problem, "server_message", None)
    if message:
        return " ".join(str(message).split())
    return first_line(problem)


# ---------------------------------------------------------------------------
# 1. Versions
# ---------------------------------------------------------------------------
print("== Versions ==")
print("Python:", sys.version.split()[0])
if sys.version_info < (3, 11):
    step("Install Python 3.11 or higher (page 'Before you start').")

try:
    import huggingface_hub
except ImportError:
    print("huggingface_hub: NOT INSTALLED")
    print()
    print("== Next steps ==")
    print("1. Install the packages: python -m pip install --upgrade huggingface_hub "
          "transformers datasets (page 'Before you start'). Then run this check again.")
    sys.exit(1)

print("huggingface_hub:", huggingface_hub.__version__)
# The version this handbook is tested with.
TESTED_VERSION = (2, 4)
major_minor = tuple(int(part) for part in huggingface_hub.__version__.split(".")[:2])
if major_minor < TESTED_VERSION:
    step("Upgrade huggingface_hub: python -m pip install --upgrade huggingface_hub "
         "(page 'Before you start'). This handbook is tested with version 2.4.")

try:
    import transformers

    print("transformers:", transformers.__version__)
except ImportError:
    print("transformers: NOT INSTALLED")
    step("Install transformers: python -m pip install --upgrade transformers "
         "(page 'Before you start').")

try:
    import datasets

    print("datasets:", datasets.__version__)
except ImportError:
    # datasets is optional: only the dataset examples need it.
    print("datasets: not installed (only needed for the dataset examples)")

from huggingface_hub import HfApi, InferenceClient, get_token
from huggingface_hub.utils import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

# ---------------------------------------------------------------------------
# 2. Where the token comes from
# ---------------------------------------------------------------------------
print()
print("== Token ==")

# Each place a token can be, in the order the libraries try them.
# The first place that has a token wins.
found = []  # (description, token)

if AS_SCRIPT and len(sys.argv) > 1 and sys.argv[1].strip():
    found.append(("the first argument of this script", sys.argv[1].strip()))

for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
    value = os.environ.get(name, "").strip()
    if value:
        found.append((f"the {name} environment variable", value))
        break  # the libraries read only the first of the two

token_file = huggingface_hub.constants.HF_TOKEN_PATH
try:
    with open(token_file) as saved:
        saved_token = saved.read().strip()
except OSError:
    saved_token = ""
if saved_token:
    found.append((f"the saved login of 'hf auth login' (file {token_file})", saved_token))

# A Colab secret is only read when this runs inside a Colab notebook.
in_colab = False
try:
    from huggingface_hub.utils import is_google_colab

    in_colab = is_google_colab()
except ImportError:
    pass
if in_colab:
    try:
        from google.colab import userdata

        secret = (userdata.get("HF_TOKEN") or "").strip()
        if secret:
            found.append(("the Colab secret HF_TOKEN", secret))
    except Exception as problem:
        # The secret does not exist, or this notebook has no access to it.
        print("Colab secret HF_TOKEN: not readable -", first_line(problem))

for description, _ in found:
    print("Token found in:", description)

token = None
if not found:
    print("Token found in: nowhere")
    print("Token used: none")
    step("Log in: run 'hf auth login' in a terminal and paste your token "
         "(page 'Method 1: Command line'). No token yet? See 'Creating a token in seven steps'.")
else:
    used_from, token = found[0]
    print("Token used:", used_from)
    if used_from != "the first argument of this script":
        # Ask the library for the same token: it also refreshes a browser login.
        token = get_token() or token

# ---------------------------------------------------------------------------
# 3. Whose token is it, and what may it do?
# ---------------------------------------------------------------------------
token_works = False
can_read_gated = True
if token:
    try:
        info = HfApi().whoami(token=token)
        token_works = True
    except HfHubHTTPError as problem:
        print("Token works: NO -", server_message(problem))
        step(f"Your token does not work: it is wrong, expired or deleted (it came from "
             f"{used_from}). Create a new token (page 'Creating a token in seven steps'), "
             "then log in again with 'hf auth login --force'.")
        if used_from.startswith("the HF_TOKEN") or used_from.startswith("the HUGGING_FACE"):
            step("HF_TOKEN wins over your saved login: put the new token in HF_TOKEN, or "
                 "remove the variable (page 'Troubleshooting', 'The wrong token is used').")
    except Exception as problem:
        print("Token works: UNKNOWN - the Hub did not answer:", first_line(problem))
        step("Check your internet connection, then run this check again.")

if token_works:
    print("Token works: yes")
    print("Token owner:", info.get("name"))
    details = info.get("auth", {}).get("accessToken", {})
    print("Token name:", details.get("displayName", "(a browser login)"))
    role = details.get("role", "(unknown)")
    print("Token type:", role)
    if role == "fineGrained":
        # A fine-grained token may do only what was ticked when it was made.
        rights = details.get("fineGrained", {})
        permissions = set(rights.get("global", []))
        for scope in rights.get("scoped", []):
            entity = scope.get("entity", {})
            if entity.get("type") == "user" and entity.get("name") == info.get("name"):
                permissions.update(scope.get("permissions", []))
        can_read_gated = bool(rights.get("canReadGatedRepos"))
        can_infer = "inference.serverless.write" in permissions
        can_write = "repo.write" in permissions
        yes_no = {True: "yes", False: "no"}
        print("  Read access to public gated repos you can access:", yes_no[can_read_gated])
        print("  Make calls to Inference Providers:", yes_no[can_infer])
        print("  Write access to your own repos:", yes_no[can_write])

# ---------------------------------------------------------------------------
# 4. The course's gated model and dataset
# ---------------------------------------------------------------------------
print()
print("== Access ==")
for repo_id, repo_type, kind, page in [
    (GATED_MODEL, "model", "Gated model", f"https://huggingface.co/{GATED_MODEL}"),
    (GATED_DATASET, "dataset", "Gated dataset", f"https://huggingface.co/datasets/{GATED_DATASET}"),
]:
    label = f"{kind} {repo_id}:"
    if not token_works:
        print(label, "NOT CHECKED - no working token")
        continue
    try:
        HfApi().auth_check(repo_id, repo_type=repo_type, token=token)
        print(label, "OK")
    except GatedRepoError:
        if not can_read_gated:
            print(label, "NO ACCESS - this fine-grained token may not read gated repos")
            step("Edit your token: open 'Settings' -> 'Access Tokens', click the token's menu, "
                 "choose 'Edit permissions', tick 'Read access to contents of all public "
                 "gated repos you can access', and save (page 'Gated models'). Then run this "
                 "check again.")
        else:
            print(label, "NO ACCESS - your account is not on the list of approved users")
            step(f"Ask for access on {page} (page 'Gated models'). Wait until the owners "
                 "approve, then run this check again.")
    except RepositoryNotFoundError as problem:
        print(label, "NOT FOUND -", server_message(problem))
        step(f"Check that you can open {page} while signed in.")
    except Exception as problem:
        print(label, "UNKNOWN -", first_line(problem))
        step("Check your internet connection, then run this check again.")

# ---------------------------------------------------------------------------
# 5. Inference Providers: ask the course's model for one token of an answer
# ---------------------------------------------------------------------------
label = f"Inference Providers ({CHAT_MODEL}):"
if not token_works:
    print(label, "NOT CHECKED - no working token")
else:
    try:
        client = InferenceClient(provider="auto", api_key=token)
        client.chat.completions.create(
            model=CHAT_MODEL,
            messages=[{"role": "user", "content": "Say hello."}],
            max_tokens=1,
        )
        print(label, "OK")
    except HfHubHTTPError as problem:
        response = problem.response
        status = response.status_code if response is not None else None
        reason = getattr(response, "reason_phrase", None) or getattr(response, "reason", "")
        print(label, f"FAILED - {status} {reason}: {server_message(problem)}")
        if status == 403:
            step("Edit your token: open 'Settings' -> 'Access Tokens', click the token's menu, "
                 "choose 'Edit permissions', tick 'Make calls to Inference Providers', and save "
                 "(page 'Using Hugging Face services with your token').")
        elif status == 402:
            step("Your free Inference Providers credits for this month are used up. "
                 "Ask your course staff what to do.")
        elif status == 429:
            step("Inference Providers is busy: wait a minute and run this check again.")
        else:
            step("Inference Providers did not answer: see 'When it does not work' on the page "
                 "'Using Hugging Face services with your token'.")
    except Exception as problem:
        print(label, "FAILED -", first_line(problem))
        step("Inference Providers did not answer: see 'When it does not work' on the page "
             "'Using Hugging Face services with your token'.")

# ---------------------------------------------------------------------------
# 6. Next steps
# ---------------------------------------------------------------------------
print()
print("== Next steps ==")
if not next_steps:
    print("Everything is ready.")
for number, text in enumerate(next_steps, start=1):
    print(f"{number}. {text}")
if AS_SCRIPT:
    sys.exit(1 if next_steps else 0)
