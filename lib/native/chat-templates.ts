/**
 * Chat templates written for made models. They render conversations without tools exactly as
 * the Qwen2.5-Instruct and Llama-3.2-Instruct templates do (including Qwen's default system
 * message and Llama's dated system header), so made models see the real prompt layout.
 */

export const QWEN25_CHAT_TEMPLATE = [
  "{%- if messages[0]['role'] == 'system' -%}",
  "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' -}}",
  '{%- else -%}',
  "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' -}}",
  '{%- endif -%}',
  '{%- for message in messages -%}',
  "{%- if not (message['role'] == 'system' and loop.first) -%}",
  "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}",
  '{%- endif -%}',
  '{%- endfor -%}',
  '{%- if add_generation_prompt -%}',
  "{{- '<|im_start|>assistant\\n' -}}",
  '{%- endif -%}',
].join('\n');

export const LLAMA32_CHAT_TEMPLATE = [
  '{{- bos_token -}}',
  "{%- if messages[0]['role'] == 'system' -%}",
  "{%- set system_message = messages[0]['content'] | trim -%}",
  '{%- set loop_messages = messages[1:] -%}',
  '{%- else -%}',
  "{%- set system_message = '' -%}",
  '{%- set loop_messages = messages -%}',
  '{%- endif -%}',
  "{%- if not date_string is defined -%}{%- set date_string = '26 Jul 2024' -%}{%- endif -%}",
  "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' -}}",
  "{{- 'Cutting Knowledge Date: December 2023\\n' -}}",
  "{{- 'Today Date: ' + date_string + '\\n\\n' -}}",
  "{{- system_message + '<|eot_id|>' -}}",
  '{%- for message in loop_messages -%}',
  "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + (message['content'] | trim) + '<|eot_id|>' -}}",
  '{%- endfor -%}',
  '{%- if add_generation_prompt -%}',
  "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}",
  '{%- endif -%}',
].join('\n');
