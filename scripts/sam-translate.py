"""Runs AWS's own SAM transform (samtranslator, installed with aws-sam-cli) on a template, offline.

Usage: .venv/bin/python scripts/sam-translate.py TEMPLATE [Name=Value ...]

Prints the CloudFormation template as JSON. Parameter values default to the template's defaults
(samtranslator fills them in), pseudo parameters to the local runtime's (us-east-1, account
000000000000, stack wims-local); `Name=Value` arguments override either.

No AWS credentials or network are needed:
- AWS managed policy names resolve through samtranslator's bundled map (what the translator uses
  before it would ask IAM), so the IAM fallback `sam validate` wires in is replaced by an empty map.
- Local CodeUri/DefinitionUri paths become `s3://local-path/<path>`, as `sam validate` replaces them
  with a fake S3 URI (the translator accepts only S3 locations, which `sam deploy` uploads them to);
  keeping the path as the key lets a caller check it against the local transform's.
"""

import json
import sys

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

LOCAL_PSEUDO_PARAMETERS = {"AWS::Region": "us-east-1", "AWS::AccountId": "000000000000", "AWS::StackName": "wims-local"}
PLACEHOLDER_BUCKET = "local-path"
# The SAM resource types whose property names a local file that `sam deploy` uploads to S3.
LOCAL_PATH_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


def as_s3_uri(path):
    """A local path as the placeholder S3 URI; S3 locations (maps, s3:// URIs) stay as they are."""
    if not isinstance(path, str) or path.startswith("s3://"):
        return path
    return f"s3://{PLACEHOLDER_BUCKET}/{path}"


def replace_local_paths(template):
    function_globals = template.get("Globals", {}).get("Function", {})
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = as_s3_uri(function_globals["CodeUri"])
    for resource in template.get("Resources", {}).values():
        name = LOCAL_PATH_PROPERTIES.get(resource.get("Type"))
        properties = resource.get("Properties", {})
        if name in properties:
            properties[name] = as_s3_uri(properties[name])


def main(arguments):
    if not arguments:
        sys.exit(__doc__)
    with open(arguments[0], encoding="utf-8") as file:
        template = yaml_parse(file.read())
    parameter_values = dict(LOCAL_PSEUDO_PARAMETERS)
    parameter_values.update(argument.split("=", 1) for argument in arguments[1:])
    replace_local_paths(template)
    # A session with a region and no credentials: the translator reads only the region (for the partition).
    session = boto3.session.Session(region_name=parameter_values["AWS::Region"])
    translator = Translator(managed_policy_map=None, sam_parser=Parser(), plugins=[], boto_session=session)
    try:
        translated = translator.translate(template, parameter_values=parameter_values, get_managed_policy_map=lambda: {})
    except InvalidDocumentException as error:
        sys.exit(" ".join([str(error), *(str(cause) for cause in error.causes)]))
    json.dump(translated, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
